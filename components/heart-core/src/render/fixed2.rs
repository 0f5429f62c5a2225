//! Fast two-decimal formatting for SVG coordinates, byte-for-byte what `{:.2}` writes.
//!
//! `{:.2}` works from the exact binary value, which is exact but slow (≈ 150 ns a number, most
//! of an SVG render). For the non-negative, finite values a path holds, `x·100` rounded to an
//! integer is the same correctly rounded result unless the exact value lies within rounding
//! error of a half-hundredth; those few values, negatives and non-finite ones go to `{:.2}`.
//! The digits are written as bytes ([`push_digits`]), not through `core::fmt`: its dynamic
//! dispatch and padding logic, and UTF-8 checks per piece, cost more than the digits, notably
//! in Wasm.

/// Largest value formatted on the fast path: far beyond any pixel coordinate, small enough
/// that `x·100`'s rounding error (≤ 2⁻⁵²·x·100) stays far below [`TIE_MARGIN`], and small
/// enough that `x·100` fits 32 bits. That matters in Wasm: it has no 64×64→128-bit multiply,
/// so a 64-bit division by a constant stays a real division instruction there, while a 32-bit
/// one becomes a multiply and a shift.
const FAST_LIMIT: f64 = 1.0e7;

/// How close to a half-hundredth `x·100` may be before the exact formatter decides.
const TIE_MARGIN: f64 = 1.0e-6;

/// Appends `x` with exactly two decimals (ASCII), as `write!(out, "{x:.2}")` would.
pub fn push_fixed2(out: &mut Vec<u8>, x: f64) {
    let scaled = x * 100.0;
    // Ties are left to `{:.2}` below, so ties-to-even rounds as well as ties-away here, and it
    // is one instruction in Wasm (`f64.nearest`) where `round` is a libm call.
    let rounded = scaled.round_ties_even();
    // |scaled − rounded| ≤ ½ (exactly computed), and it nears ½ only near a half-hundredth.
    let near_tie = 0.5 - (scaled - rounded).abs() < TIE_MARGIN;
    if !(0.0..FAST_LIMIT).contains(&x) || x.is_sign_negative() || near_tie {
        out.extend_from_slice(format!("{x:.2}").as_bytes());
        return;
    }
    // In range (below 10⁹ hundredths) and not negative, so the cast is exact.
    let hundredths = rounded as u32;
    let whole = hundredths / 100;
    push_digits(out, whole);
    let cents = (hundredths % 100) as u8;
    out.extend_from_slice(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
}

/// Appends the decimal digits of `n` (below 10⁸), with no call, no buffer in memory and no
/// copy of unknown length: the digits are gathered in one 64-bit word, a byte each, written
/// as one 8-byte store and cut to their count. (A general formatter such as `itoa` keeps them
/// in a stack buffer, which in Wasm lives in linear memory, and copies a variable length,
/// which Wasm makes a `memory.copy` call; per coordinate that was most of an SVG render.)
fn push_digits(out: &mut Vec<u8>, mut n: u32) {
    debug_assert!(n < 100_000_000, "eight digits at most");
    // Most significant digit in the lowest byte: the order the bytes are stored in.
    let mut packed = 0u64;
    let mut count = 0;
    loop {
        packed = (packed << 8) | u64::from(n % 10);
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = out.len();
    out.extend_from_slice(&(packed | 0x3030_3030_3030_3030).to_le_bytes());
    out.truncate(start + count);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(x: f64) -> String {
        let mut out = Vec::new();
        push_fixed2(&mut out, x);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn edges_match_the_standard_formatter() {
        let edges = [
            0.0,
            -0.0,
            0.004,
            0.005,
            0.015,
            0.125,
            0.375,
            1.005,
            2.675,
            9.995,
            99.995,
            0.994999,
            0.995,
            127.5,
            255.999,
            1023.995,
            9_999_999.99,
            9_999_999.995,
            1e7,
            1e9,
            1e12,
            -0.001,
            -1.5,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        for x in edges {
            assert_eq!(fast(x), format!("{x:.2}"), "{x:?}");
        }
    }

    #[test]
    fn digits_match_to_string_at_every_length() {
        let mut cases = vec![0u32, 1, 9];
        for digits in 2..=8 {
            let low = 10u32.pow(digits - 1);
            cases.extend([low, low + 1, low * 10 - 1, low * 7 + 3]);
        }
        for n in cases {
            let mut out = b"x".to_vec();
            push_digits(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes(), "{n}");
        }
    }

    #[test]
    fn every_hundredth_and_half_hundredth_up_to_1024_matches() {
        for n in 0..=204_800u32 {
            let x = f64::from(n) / 200.0;
            assert_eq!(fast(x), format!("{x:.2}"), "{x:?}");
        }
    }

    proptest! {
        #[test]
        fn any_value_matches_the_standard_formatter(x in proptest::num::f64::ANY) {
            prop_assert_eq!(fast(x), format!("{x:.2}"));
        }

        #[test]
        fn pixel_coordinates_match_the_standard_formatter(x in 0.0f64..2048.0) {
            prop_assert_eq!(fast(x), format!("{x:.2}"));
        }
    }
}

//! Fast two-decimal formatting for SVG coordinates, byte-for-byte what `{:.2}` writes.
//!
//! `{:.2}` works from the exact binary value, which is exact but slow (≈ 150 ns a number, most
//! of an SVG render). For the non-negative, finite values a path holds, `x·100` rounded to an
//! integer is the same correctly rounded result unless the exact value lies within rounding
//! error of a half-hundredth; those few values, negatives and non-finite ones go to `{:.2}`.
//! The digits are written by `itoa` as bytes, not through `core::fmt`: its dynamic dispatch and
//! padding logic, and UTF-8 checks per piece, cost more than the digits, notably in Wasm.

/// Largest value formatted on the fast path: far beyond any pixel coordinate, and small enough
/// that `x·100`'s rounding error (≤ 2⁻⁵²·x·100) stays far below [`TIE_MARGIN`].
const FAST_LIMIT: f64 = 1.0e9;

/// How close to a half-hundredth `x·100` may be before the exact formatter decides.
const TIE_MARGIN: f64 = 1.0e-6;

/// Appends `x` with exactly two decimals (ASCII), as `write!(out, "{x:.2}")` would.
pub fn push_fixed2(out: &mut Vec<u8>, x: f64) {
    let scaled = x * 100.0;
    // Ties are left to `{:.2}` below, so ties-to-even rounds as well as ties-away here, and it
    // is one instruction in Wasm (`f64.nearest`) where `round` is a libm call.
    let rounded = scaled.round_ties_even();
    let near_tie = ((scaled - scaled.trunc()).abs() - 0.5).abs() < TIE_MARGIN;
    if !(0.0..FAST_LIMIT).contains(&x) || x.is_sign_negative() || near_tie {
        out.extend_from_slice(format!("{x:.2}").as_bytes());
        return;
    }
    // In range and not negative, so the cast is exact.
    let hundredths = rounded as u64;
    // The whole part is below FAST_LIMIT, so it fits 32 bits: cheaper digits than 64 bits.
    let whole = u32::try_from(hundredths / 100).expect("below FAST_LIMIT");
    out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
    let cents = (hundredths % 100) as u8;
    out.extend_from_slice(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
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

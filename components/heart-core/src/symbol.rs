//! The heart symbol shown for a heart rate, and the weight it gives the pulse.

use serde::Serialize;

use crate::config::Bpm;

/// The symbol for a heart rate: resting (< 60 bpm), steady (60–100 bpm) or racing (> 100 bpm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Symbol {
    /// ♡ (U+2661), below 60 bpm.
    Resting,
    /// ❤️ (U+2764 U+FE0F), 60 to 100 bpm inclusive.
    Steady,
    /// 💓 (U+1F493), above 100 bpm.
    Racing,
}

impl Symbol {
    /// The symbol for `bpm`: below 60 resting, 60–100 steady, above 100 racing.
    pub fn for_bpm(bpm: Bpm) -> Self {
        match bpm.get() {
            ..60 => Self::Resting,
            60..=100 => Self::Steady,
            _ => Self::Racing,
        }
    }

    /// The Unicode glyph.
    pub fn glyph(self) -> &'static str {
        match self {
            Self::Resting => "\u{2661}",
            Self::Steady => "\u{2764}\u{FE0F}",
            Self::Racing => "\u{1F493}",
        }
    }

    /// A plain-ASCII stand-in for terminals without Unicode.
    pub fn ascii(self) -> &'static str {
        match self {
            Self::Resting => "<3 (resting)",
            Self::Steady => "<3",
            Self::Racing => "<3 <3",
        }
    }

    /// The stable machine name (`resting`, `steady`, `racing`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Resting => "resting",
            Self::Steady => "steady",
            Self::Racing => "racing",
        }
    }

    /// How strongly this symbol's heart pulses: 0.8, 1.0 or 1.2.
    pub fn weight(self) -> f64 {
        match self {
            Self::Resting => 0.8,
            Self::Steady => 1.0,
            Self::Racing => 1.2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(bpm: u16) -> Symbol {
        Symbol::for_bpm(Bpm::new(bpm).expect("test bpm is in range"))
    }

    #[test]
    fn bpm_below_60_uses_outlined_heart() {
        assert_eq!(symbol(59), Symbol::Resting);
        assert_eq!(symbol(Bpm::MIN), Symbol::Resting);
        assert_eq!(symbol(59).glyph(), "\u{2661}");
        assert_eq!(symbol(59).weight(), 0.8);
    }

    #[test]
    fn bpm_from_60_to_100_uses_red_heart() {
        assert_eq!(symbol(60), Symbol::Steady);
        assert_eq!(symbol(100), Symbol::Steady);
        assert_eq!(symbol(72).glyph(), "\u{2764}\u{FE0F}");
        assert_eq!(symbol(100).weight(), 1.0);
    }

    #[test]
    fn bpm_above_100_uses_growing_heart() {
        assert_eq!(symbol(101), Symbol::Racing);
        assert_eq!(symbol(Bpm::MAX), Symbol::Racing);
        assert_eq!(symbol(101).glyph(), "\u{1F493}");
        assert_eq!(symbol(101).weight(), 1.2);
    }

    #[test]
    fn ascii_fallback_is_plain_ascii() {
        for s in [Symbol::Resting, Symbol::Steady, Symbol::Racing] {
            assert!(s.ascii().is_ascii(), "{s:?}");
            assert!(s.name().is_ascii(), "{s:?}");
        }
    }
}

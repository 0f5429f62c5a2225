//! Fill colours: a CSS hex colour (`#rgb`, `#rrggbb`) or a CSS colour name.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::config::{ConfigError, shown};

/// An opaque colour, remembered in the form it was given (lower-cased) and as RGB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color {
    text: String,
    rgb: [u8; 3],
}

impl Color {
    /// Parses `#rgb`, `#rrggbb` or a CSS colour name such as `crimson` (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let text = raw.trim().to_ascii_lowercase();
        let rgb = match text.strip_prefix('#') {
            Some(hex) => hex_rgb(hex),
            // The CSS names as csscolorparser tabulates them (`transparent` is not among them:
            // an invisible heart is not a colour choice).
            None => csscolorparser::NAMED_COLORS
                .get(uncased::UncasedStr::new(&text))
                .copied(),
        };
        match rgb {
            Some(rgb) => Ok(Self { text, rgb }),
            None => Err(ConfigError::BadColor { value: shown(raw) }),
        }
    }

    /// Red, green and blue components.
    pub fn rgb(&self) -> [u8; 3] {
        self.rgb
    }

    /// The colour as `#rrggbb`.
    pub fn hex(&self) -> String {
        let [r, g, b] = self.rgb;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// `rgb` or `rrggbb` hex digits as RGB; each digit of the short form doubles (`#0af` is
/// `#00aaff`), as in CSS.
fn hex_rgb(hex: &str) -> Option<[u8; 3]> {
    let digits = hex
        .chars()
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<Vec<u8>>>()?;
    match digits[..] {
        [r, g, b] => Some([r * 17, g * 17, b * 17]),
        [r1, r0, g1, g0, b1, b0] => Some([r1 << 4 | r0, g1 << 4 | g0, b1 << 4 | b0]),
        _ => None,
    }
}

impl Default for Color {
    /// Crimson, the heart's default colour.
    fn default() -> Self {
        Self {
            text: "crimson".to_owned(),
            rgb: [0xdc, 0x14, 0x3c],
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours_of_three_and_six_digits_parse() {
        assert_eq!(
            Color::parse("#0af").map(|c| c.rgb()),
            Ok([0x00, 0xaa, 0xff])
        );
        assert_eq!(
            Color::parse("#FF0080").map(|c| c.hex()),
            Ok("#ff0080".to_owned())
        );
    }

    #[test]
    fn css_names_parse_case_insensitively() {
        assert_eq!(
            Color::parse("HotPink").map(|c| c.rgb()),
            Ok([255, 105, 180])
        );
        assert_eq!(
            Color::parse("hotpink").map(|c| c.to_string()),
            Ok("hotpink".into())
        );
    }

    #[test]
    fn default_matches_the_css_name_it_claims() {
        assert_eq!(Color::parse("crimson"), Ok(Color::default()));
    }

    #[test]
    fn other_css_forms_and_junk_are_rejected_with_the_value() {
        for raw in [
            "rgb(1,2,3)",
            "#12",
            "#12345678",
            "notacolour",
            "",
            "transparent",
            "#ggg",
        ] {
            let err = Color::parse(raw).expect_err(raw);
            assert!(err.to_string().contains(&format!("`{raw}`")), "{err}");
        }
    }
}

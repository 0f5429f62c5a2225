//! Validated configuration values and their parsers.
//!
//! Every value arrives as a string (query parameter, config file, environment variable) and is
//! parsed into a type that cannot hold an out-of-range value. Errors name the bad value and the
//! accepted range, e.g. ``love level `11` is out of range 1..=10``; no input panics.

use std::fmt;

use serde::Serialize;

use crate::color::Color;

/// A configurable or per-request input, with its names in each place it can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// How much love the heart shows: the pulse amplitude, 1–10.
    LoveLevel,
    /// Heart rate in beats per minute.
    Bpm,
    /// Fill colour.
    Color,
    /// Rendered size in pixels.
    Size,
    /// Consecutive missed beats before a client counts as offline.
    AlertThreshold,
    /// Time in seconds at which a frame is computed (per request only).
    Time,
    /// Number of ECG samples in a window (per request only).
    Samples,
    /// Length of an ECG window in seconds (per request only).
    Window,
    /// Frames per second of a live stream (per request only).
    Fps,
    /// Columns of a live stream's text grid (per request only).
    Cols,
    /// Rows of a live stream's heart grid (per request only).
    Rows,
    /// How long a live stream runs, in seconds (per request only).
    Duration,
}

impl Field {
    /// The fields that make up a [`HeartConfig`], in a stable order.
    pub const CONFIG: [Field; 5] = [
        Field::LoveLevel,
        Field::Bpm,
        Field::Color,
        Field::Size,
        Field::AlertThreshold,
    ];

    /// Human-readable name used in error messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::LoveLevel => "love level",
            Self::Bpm => "bpm",
            Self::Color => "colour",
            Self::Size => "size",
            Self::AlertThreshold => "alert threshold",
            Self::Time => "time",
            Self::Samples => "samples",
            Self::Window => "window",
            Self::Fps => "fps",
            Self::Cols => "cols",
            Self::Rows => "rows",
            Self::Duration => "seconds",
        }
    }

    /// Its names, in one table: the application variable, the config-directory file and the
    /// query parameter.
    fn names(self) -> [&'static str; 3] {
        match self {
            Self::LoveLevel => ["love_level", "love-level", "love"],
            Self::Bpm => ["bpm", "bpm", "bpm"],
            Self::Color => ["color", "color", "color"],
            Self::Size => ["size", "size", "size"],
            Self::AlertThreshold => ["alert_threshold", "alert-threshold", "alert_threshold"],
            Self::Time => ["t", "t", "t"],
            Self::Samples => ["samples", "samples", "samples"],
            Self::Window => ["window", "window", "window"],
            Self::Fps => ["fps", "fps", "fps"],
            Self::Cols => ["cols", "cols", "cols"],
            Self::Rows => ["rows", "rows", "rows"],
            Self::Duration => ["seconds", "seconds", "seconds"],
        }
    }

    /// Application-variable name (spin.toml `[variables]`, `SPIN_VARIABLE_<NAME>`).
    pub fn variable(self) -> &'static str {
        self.names()[0]
    }

    /// File name in a mounted config directory (a Kubernetes ConfigMap key).
    pub fn file_name(self) -> &'static str {
        self.names()[1]
    }

    /// Query-parameter name on the HTTP API.
    pub fn query(self) -> &'static str {
        self.names()[2]
    }

    /// Finds a config field by its variable or file name, ignoring case and `-`/`_`.
    pub fn from_key(key: &str) -> Option<Field> {
        let normal = key.trim().to_ascii_lowercase().replace('-', "_");
        Self::CONFIG.into_iter().find(|f| f.variable() == normal)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a configuration value was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A number outside its accepted range.
    #[error("{field} `{value}` is out of range {range}")]
    OutOfRange {
        /// The field.
        field: Field,
        /// The rejected text, shortened for display.
        value: String,
        /// The accepted range, e.g. `1..=10`.
        range: String,
    },
    /// Text that is not a number of the expected kind.
    #[error("{field} `{value}` is not {expected}; expected {range}")]
    NotANumber {
        /// The field.
        field: Field,
        /// The rejected text, shortened for display.
        value: String,
        /// What kind of number was expected, e.g. `a whole number`.
        expected: &'static str,
        /// The accepted range.
        range: String,
    },
    /// Text that is not a CSS hex colour or colour name.
    #[error("colour `{value}` is not a CSS hex colour (#rgb or #rrggbb) or a CSS colour name")]
    BadColor {
        /// The rejected text, shortened for display.
        value: String,
    },
    /// A key that names no config field.
    #[error(
        "unknown config key `{key}`; expected one of love_level, bpm, color, size, alert_threshold"
    )]
    UnknownKey {
        /// The rejected key, shortened for display.
        key: String,
    },
}

impl ConfigError {
    /// The field the error is about, if it is about one.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::OutOfRange { field, .. } | Self::NotANumber { field, .. } => Some(*field),
            Self::BadColor { .. } => Some(Field::Color),
            Self::UnknownKey { .. } => None,
        }
    }
}

/// Shortens and escapes untrusted text so an error message stays one readable line.
pub(crate) fn shown(raw: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out: String = raw
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if raw.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Parses a whole number within `min..=max`, telling "not a number" from "out of range".
pub(crate) fn parse_whole(field: Field, raw: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    let text = raw.trim();
    let range = format!("{min}..={max}");
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::NotANumber {
            field,
            value: shown(raw),
            expected: "a whole number",
            range,
        });
    }
    match text.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::OutOfRange {
            field,
            value: shown(raw),
            range,
        }),
    }
}

/// Parses a finite decimal number within `min..=max` (plain notation or exponent).
pub(crate) fn parse_decimal(
    field: Field,
    raw: &str,
    min: f64,
    max: f64,
) -> Result<f64, ConfigError> {
    let text = raw.trim();
    let range = format!("{min}..={max}");
    let looks_numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    match looks_numeric.then(|| text.parse::<f64>().ok()).flatten() {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(_) => Err(ConfigError::OutOfRange {
            field,
            value: shown(raw),
            range,
        }),
        None => Err(ConfigError::NotANumber {
            field,
            value: shown(raw),
            expected: "a number",
            range,
        }),
    }
}

/// Defines a bounded whole-number config type with its range, default and parser.
macro_rules! bounded_whole {
    ($(#[$doc:meta])* $name:ident($int:ty), $field:expr, $min:expr, $max:expr, $default:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name($int);

        impl $name {
            /// Smallest accepted value.
            pub const MIN: $int = $min;
            /// Largest accepted value.
            pub const MAX: $int = $max;
            /// Value used when none is configured.
            pub const DEFAULT: Self = Self($default);
            /// The field this value configures.
            pub const FIELD: Field = $field;

            /// Accepts `value` if it is within `MIN..=MAX`.
            pub fn new(value: $int) -> Result<Self, ConfigError> {
                if (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(ConfigError::OutOfRange {
                        field: Self::FIELD,
                        value: value.to_string(),
                        range: format!("{}..={}", Self::MIN, Self::MAX),
                    })
                }
            }

            /// Parses decimal text (surrounding white space is ignored).
            pub fn parse(raw: &str) -> Result<Self, ConfigError> {
                let n = parse_whole(Self::FIELD, raw, i64::from(Self::MIN), i64::from(Self::MAX))?;
                let value = <$int>::try_from(n).expect("parse_whole keeps n within MIN..=MAX");
                Ok(Self(value))
            }

            /// The plain number.
            pub fn get(self) -> $int {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::DEFAULT
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

bounded_whole!(
    /// How much love the heart shows (pulse amplitude), 1–10, default 7.
    LoveLevel(u8), Field::LoveLevel, 1, 10, 7
);
bounded_whole!(
    /// Heart rate in beats per minute, 30–220, default 72.
    Bpm(u16), Field::Bpm, 30, 220, 72
);
bounded_whole!(
    /// Rendered width and height in pixels, 16–1024, default 256.
    Size(u16), Field::Size, 16, 1024, 256
);
bounded_whole!(
    /// Consecutive missed beats before a client is offline, 1–1000, default 3.
    AlertThreshold(u32), Field::AlertThreshold, 1, 1000, 3
);

/// A point in time, in seconds since the animation started: finite, 0 to one million.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Default)]
#[serde(transparent)]
pub struct Seconds(f64);

impl Seconds {
    /// Largest accepted time, in seconds.
    pub const MAX: f64 = 1_000_000.0;

    /// Accepts finite `value` within `0..=MAX`.
    pub fn new(value: f64) -> Result<Self, ConfigError> {
        if value.is_finite() && (0.0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ConfigError::OutOfRange {
                field: Field::Time,
                // zmij's shortest round-trip text, not `f64`'s `Display`: the browser bundle
                // checks times too, and core's float formatting would be a third of it.
                value: zmij::Buffer::new().format(value).to_owned(),
                range: format!("0..={}", Self::MAX as u32),
            })
        }
    }

    /// Parses a decimal number of seconds such as `1.25`.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        parse_decimal(Field::Time, raw, 0.0, Self::MAX).map(Self)
    }

    /// The plain number of seconds.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// The effective configuration of a heart: every value already validated.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HeartConfig {
    /// Pulse amplitude, 1–10.
    pub love_level: LoveLevel,
    /// Heart rate.
    pub bpm: Bpm,
    /// Fill colour.
    pub color: Color,
    /// Rendered size in pixels.
    pub size: Size,
    /// Missed beats before a client is offline.
    pub alert_threshold: AlertThreshold,
}

impl HeartConfig {
    /// Sets one field from text, leaving the config unchanged on error.
    pub fn set(&mut self, field: Field, raw: &str) -> Result<(), ConfigError> {
        match field {
            Field::LoveLevel => self.love_level = LoveLevel::parse(raw)?,
            Field::Bpm => self.bpm = Bpm::parse(raw)?,
            Field::Color => self.color = Color::parse(raw)?,
            Field::Size => self.size = Size::parse(raw)?,
            Field::AlertThreshold => self.alert_threshold = AlertThreshold::parse(raw)?,
            per_request => {
                return Err(ConfigError::UnknownKey {
                    key: per_request.variable().to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Applies `(key, value)` pairs on top of `self`, all or nothing: every bad pair is
    /// reported, and on any error `self` is not changed.
    pub fn with_values<'a, I>(&self, pairs: I) -> Result<HeartConfig, Vec<ConfigError>>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut next = self.clone();
        let mut errors = Vec::new();
        for (key, value) in pairs {
            let outcome = match Field::from_key(key) {
                Some(field) => next.set(field, value),
                None => Err(ConfigError::UnknownKey { key: shown(key) }),
            };
            if let Err(e) = outcome {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(errors)
        }
    }

    /// The value of `field` as text, in the form its parser accepts.
    pub fn value_text(&self, field: Field) -> Option<String> {
        match field {
            Field::LoveLevel => Some(self.love_level.to_string()),
            Field::Bpm => Some(self.bpm.to_string()),
            Field::Color => Some(self.color.to_string()),
            Field::Size => Some(self.size.to_string()),
            Field::AlertThreshold => Some(self.alert_threshold.to_string()),
            // The per-request fields are no part of a config.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn love_level_defaults_to_7() {
        assert_eq!(HeartConfig::default().love_level.get(), 7);
    }

    #[test]
    fn love_level_out_of_range_names_value_and_range() {
        let err = LoveLevel::parse("11").expect_err("11 is above 10");
        assert_eq!(err.to_string(), "love level `11` is out of range 1..=10");
        let err = LoveLevel::parse("0").expect_err("0 is below 1");
        assert_eq!(err.to_string(), "love level `0` is out of range 1..=10");
    }

    #[test]
    fn love_level_accepts_both_ends_and_white_space() {
        assert_eq!(LoveLevel::parse("1").map(LoveLevel::get), Ok(1));
        assert_eq!(LoveLevel::parse(" 10\n").map(LoveLevel::get), Ok(10));
    }

    #[test]
    fn non_numbers_say_what_was_expected() {
        let err = Bpm::parse("fast").expect_err("not a number");
        assert_eq!(
            err.to_string(),
            "bpm `fast` is not a whole number; expected 30..=220"
        );
        assert!(Bpm::parse("72.5").is_err());
        assert!(Bpm::parse("").is_err());
        assert!(Bpm::parse("+").is_err());
    }

    #[test]
    fn huge_and_negative_numbers_are_out_of_range() {
        let err = Size::parse("99999999999999999999999").expect_err("too big");
        assert!(matches!(err, ConfigError::OutOfRange { .. }), "{err}");
        let err = AlertThreshold::parse("-1").expect_err("negative");
        assert_eq!(
            err.to_string(),
            "alert threshold `-1` is out of range 1..=1000"
        );
    }

    #[test]
    fn time_rejects_nan_infinity_and_negative() {
        for raw in ["NaN", "inf", "-1", "1e7", "abc", ""] {
            assert!(Seconds::parse(raw).is_err(), "{raw}");
        }
        assert_eq!(Seconds::parse("1.25").map(Seconds::get), Ok(1.25));
        assert_eq!(
            Seconds::parse("inf").expect_err("inf").to_string(),
            "time `inf` is not a number; expected 0..=1000000"
        );
    }

    #[test]
    fn long_bad_values_are_shortened_and_escaped() {
        let raw = format!("{}\n", "9".repeat(200));
        let msg = Bpm::parse(&format!("x{raw}")).expect_err("bad").to_string();
        assert!(msg.len() < 200, "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains('…'), "{msg}");
    }

    #[test]
    fn keys_are_found_by_variable_or_file_name() {
        assert_eq!(Field::from_key("love_level"), Some(Field::LoveLevel));
        assert_eq!(Field::from_key("love-level"), Some(Field::LoveLevel));
        assert_eq!(
            Field::from_key("ALERT_THRESHOLD"),
            Some(Field::AlertThreshold)
        );
        assert_eq!(Field::from_key("t"), None);
        assert_eq!(Field::from_key("mood"), None);
    }

    #[test]
    fn with_values_is_all_or_nothing_and_reports_every_error() {
        let base = HeartConfig::default();
        let errors = base
            .with_values([
                ("bpm", "90"),
                ("love-level", "12"),
                ("mood", "x"),
                ("color", "#zz"),
            ])
            .expect_err("three bad pairs");
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0].field(), Some(Field::LoveLevel));
        assert_eq!(errors[1].field(), None);
        assert_eq!(errors[2].field(), Some(Field::Color));

        let next = base
            .with_values([("bpm", "90"), ("size", "64")])
            .expect("valid pairs");
        assert_eq!(next.bpm.get(), 90);
        assert_eq!(next.size.get(), 64);
        assert_eq!(base.bpm, Bpm::DEFAULT, "the base is untouched");
    }

    #[test]
    fn value_text_round_trips_through_set() {
        let cfg = HeartConfig::default()
            .with_values([("color", "#0af"), ("bpm", "130")])
            .expect("valid");
        let mut copy = HeartConfig::default();
        for field in Field::CONFIG {
            let text = cfg.value_text(field).expect("config fields have text");
            copy.set(field, &text).expect("own text parses");
        }
        assert_eq!(copy, cfg);
    }
}

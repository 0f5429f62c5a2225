//! Query-string parsing: percent-decoding, unknown and repeated parameters, typed values.

use crate::config::{ConfigError, shown};

/// Longest query string accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;

/// Why a query string was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The query string is too long.
    #[error("query string of {len} bytes is over the {max}-byte limit")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A parameter this route does not take.
    #[error("unknown query parameter `{name}`; this route accepts: {accepted}")]
    Unknown {
        /// The parameter, shortened for display.
        name: String,
        /// The accepted names, comma-separated.
        accepted: String,
    },
    /// A parameter given more than once.
    #[error("query parameter `{name}` is given more than once")]
    Repeated {
        /// The parameter.
        name: String,
    },
    /// A value that is not one of a fixed set of choices.
    #[error("{name} `{value}` is not one of: {choices}")]
    NotAChoice {
        /// The parameter.
        name: &'static str,
        /// The value, shortened for display.
        value: String,
        /// The accepted values, comma-separated.
        choices: &'static str,
    },
    /// A value its parser rejected.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

impl QueryError {
    /// The query parameter the error is about, if any.
    pub fn parameter(&self) -> Option<String> {
        match self {
            Self::TooLong { .. } => None,
            Self::Unknown { name, .. } | Self::Repeated { name } => Some(name.clone()),
            Self::NotAChoice { name, .. } => Some((*name).to_owned()),
            Self::Invalid(e) => e.field().map(|f| f.query().to_owned()),
        }
    }
}

/// A decoded query string whose parameter names are all known to the route and unrepeated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `raw` (without `?`), accepting only the parameter names in `accepted`.
    /// Invalid UTF-8 in percent-escapes becomes U+FFFD, so values stay printable.
    pub fn parse(raw: &str, accepted: &[&str]) -> Result<Self, QueryError> {
        if raw.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong {
                len: raw.len(),
                max: MAX_QUERY_BYTES,
            });
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if !accepted.contains(&name.as_ref()) {
                return Err(QueryError::Unknown {
                    name: shown(&name),
                    accepted: if accepted.is_empty() {
                        "no parameters".to_owned()
                    } else {
                        accepted.join(", ")
                    },
                });
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(QueryError::Repeated {
                    name: name.into_owned(),
                });
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The decoded value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses `name` with `parse` if given.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, ConfigError>,
    ) -> Result<Option<T>, QueryError> {
        self.get(name)
            .map(parse)
            .transpose()
            .map_err(QueryError::from)
    }

    /// A boolean flag: `1`, `true`, `yes` or `0`, `false`, `no` (absent is false).
    pub fn flag(&self, name: &'static str) -> Result<bool, QueryError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes" | "") => Ok(true),
            Some(_) => Err(QueryError::NotAChoice {
                name,
                value: shown(self.get(name).unwrap_or_default()),
                choices: "1, true, yes, 0, false, no",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_decoded() {
        let q = Query::parse("color=%23ff0000&bpm=+90", &["color", "bpm"]).expect("valid");
        assert_eq!(q.get("color"), Some("#ff0000"));
        assert_eq!(q.get("bpm"), Some(" 90"), "+ is a space in query strings");
    }

    #[test]
    fn unknown_parameters_name_the_accepted_ones() {
        let err = Query::parse("lvoe=9", &["love", "bpm"]).expect_err("typo");
        assert_eq!(
            err.to_string(),
            "unknown query parameter `lvoe`; this route accepts: love, bpm"
        );
        assert_eq!(err.parameter().as_deref(), Some("lvoe"));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let err = Query::parse("bpm=60&bpm=90", &["bpm"]).expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "query parameter `bpm` is given more than once"
        );
    }

    #[test]
    fn overlong_query_is_refused_before_decoding() {
        let raw = format!("bpm={}", "9".repeat(MAX_QUERY_BYTES));
        assert!(matches!(
            Query::parse(&raw, &["bpm"]),
            Err(QueryError::TooLong { .. })
        ));
    }

    #[test]
    fn invalid_utf8_escapes_become_replacement_characters() {
        let q = Query::parse("color=%FF%FE", &["color"]).expect("decodes lossily");
        assert_eq!(q.get("color"), Some("\u{FFFD}\u{FFFD}"));
    }

    #[test]
    fn empty_pairs_are_ignored() {
        assert_eq!(Query::parse("&&", &[]), Ok(Query::default()));
    }

    #[test]
    fn flags_accept_common_spellings() {
        let q = Query::parse("ascii=yes", &["ascii"]).expect("valid");
        assert_eq!(q.flag("ascii"), Ok(true));
        let q = Query::parse("ascii=maybe", &["ascii"]).expect("valid");
        assert!(q.flag("ascii").is_err());
    }
}

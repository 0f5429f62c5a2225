//! The body of `POST /api/beat`: `{"client": "<id>", "seq": <n>, "bpm": <n>}`.

use serde::Deserialize;

use crate::config::{Bpm, shown};

/// Largest accepted beat body, in bytes; larger bodies are refused before parsing.
pub const MAX_BEAT_BODY_BYTES: usize = 1024;

/// Longest accepted client id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 128;

/// One heartbeat a client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeatReport {
    /// The client's id (1–128 bytes, no control characters).
    pub client: String,
    /// The beat's sequence number; each beat of a client counts up by one.
    pub seq: u64,
    /// The rate the client beats at, which sets when its next beat is due.
    pub bpm: Bpm,
}

/// Why a beat body was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BeatReportError {
    /// Over [`MAX_BEAT_BODY_BYTES`].
    #[error("beat body of {len} bytes is over the {MAX_BEAT_BODY_BYTES}-byte limit")]
    TooLarge {
        /// The body's length.
        len: usize,
    },
    /// Not JSON of the expected shape.
    #[error(
        "beat body is not JSON of the form {{\"client\": \"<id>\", \"seq\": <0..>, \"bpm\": <30..=220>}}: {reason}"
    )]
    Malformed {
        /// What the JSON parser said.
        reason: String,
    },
    /// An empty, overlong or unprintable client id.
    #[error("client id `{value}` is not 1..={MAX_CLIENT_ID_BYTES} bytes of printable text")]
    BadClient {
        /// The id, shortened for display.
        value: String,
    },
    /// `seq` is not a whole number from 0 to 2^64−1.
    #[error("seq `{value}` is not a whole number in 0..=18446744073709551615")]
    BadSeq {
        /// The number as sent.
        value: String,
    },
    /// `bpm` outside the accepted heart rates.
    #[error(transparent)]
    BadBpm(#[from] crate::config::ConfigError),
}

/// The body as sent: numbers are kept as JSON numbers so range errors can quote them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBeat {
    client: String,
    seq: serde_json::Number,
    bpm: serde_json::Number,
}

impl BeatReport {
    /// Parses and validates a beat body.
    pub fn from_json(body: &[u8]) -> Result<Self, BeatReportError> {
        if body.len() > MAX_BEAT_BODY_BYTES {
            return Err(BeatReportError::TooLarge { len: body.len() });
        }
        let raw: RawBeat =
            serde_json::from_slice(body).map_err(|e| BeatReportError::Malformed {
                reason: e.to_string(),
            })?;
        let client_ok = !raw.client.is_empty()
            && raw.client.len() <= MAX_CLIENT_ID_BYTES
            && !raw.client.chars().any(char::is_control);
        if !client_ok {
            return Err(BeatReportError::BadClient {
                value: shown(&raw.client),
            });
        }
        let seq = raw.seq.as_u64().ok_or_else(|| BeatReportError::BadSeq {
            value: shown(&raw.seq.to_string()),
        })?;
        let bpm = Bpm::parse(&raw.bpm.to_string())?;
        Ok(Self {
            client: raw.client,
            seq,
            bpm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<BeatReport, BeatReportError> {
        BeatReport::from_json(body.as_bytes())
    }

    #[test]
    fn a_well_formed_beat_parses() {
        let beat = parse(r#"{"client":"tab-1","seq":7,"bpm":72}"#).expect("valid");
        assert_eq!(
            beat,
            BeatReport {
                client: "tab-1".into(),
                seq: 7,
                bpm: Bpm::new(72).expect("in range"),
            }
        );
    }

    #[test]
    fn bad_bodies_name_the_bad_value_and_the_accepted_range() {
        let cases = [
            (
                r#"{"client":"a","seq":1,"bpm":500}"#,
                "bpm `500` is out of range 30..=220",
            ),
            (
                r#"{"client":"a","seq":1,"bpm":72.5}"#,
                "bpm `72.5` is not a whole number; expected 30..=220",
            ),
            (
                r#"{"client":"a","seq":-1,"bpm":72}"#,
                "seq `-1` is not a whole number",
            ),
            (
                r#"{"client":"a","seq":1.5,"bpm":72}"#,
                "seq `1.5` is not a whole number",
            ),
            (
                r#"{"client":"","seq":1,"bpm":72}"#,
                "client id `` is not 1..=128 bytes",
            ),
            (
                r#"{"client":"a\u0007","seq":1,"bpm":72}"#,
                "client id `a\\u{7}` is not",
            ),
            (r#"{"client":"a","seq":1}"#, "missing field `bpm`"),
            (
                r#"{"client":"a","seq":1,"bpm":72,"x":1}"#,
                "unknown field `x`",
            ),
            (
                r#"{"client":1,"seq":1,"bpm":72}"#,
                "invalid type: integer `1`, expected a string",
            ),
            ("not json", "beat body is not JSON of the form"),
        ];
        for (body, expected) in cases {
            let message = parse(body).expect_err(body).to_string();
            assert!(message.contains(expected), "{body}: {message}");
        }
        let long = format!(r#"{{"client":"{}","seq":1,"bpm":72}}"#, "x".repeat(129));
        assert!(matches!(
            parse(&long),
            Err(BeatReportError::BadClient { .. })
        ));
        let huge = format!(
            r#"{{"client":"a","seq":1,"bpm":72,"pad":"{}"}}"#,
            " ".repeat(1100)
        );
        assert!(matches!(
            parse(&huge),
            Err(BeatReportError::TooLarge { .. })
        ));
    }
}

//! Content codings: which precompressed form of a static file to send for an
//! `Accept-Encoding` header (RFC 9110 §12.5.3).

use crate::api::weighted::weighted;

/// A content coding the embedded files are precompressed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Brotli (`br`): the smaller of the two, preferred when both are equally accepted.
    Brotli,
    /// gzip (`gzip`, also accepted as `x-gzip`).
    Gzip,
}

impl Coding {
    /// The token in `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    fn matches(self, token: &str) -> bool {
        token.eq_ignore_ascii_case(self.token())
            || (self == Self::Gzip && token.eq_ignore_ascii_case("x-gzip"))
    }
}

/// A static file's bytes in one content coding (decoding gives the file's identity bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    /// The coding.
    pub coding: Coding,
    /// The coded bytes.
    pub body: &'static [u8],
}

/// The form to send, of those `offered` (in order of preference), for the request's
/// `Accept-Encoding` field: the offered coding with the highest quality above zero (a coding
/// not listed takes the quality of `*`, if any; ties go to the earlier offered); `None` means
/// the identity bytes, as for a request without the field.
pub fn choose_coding<'a>(
    accept_encoding: Option<&str>,
    offered: &'a [Encoded],
) -> Option<&'a Encoded> {
    let accept = accept_encoding?;
    let entries: Vec<(&str, f32)> = accept.split(',').filter_map(weighted).collect();
    let quality = |coding: Coding| -> f32 {
        entries
            .iter()
            .find(|(token, _)| coding.matches(token))
            .or_else(|| entries.iter().find(|(token, _)| *token == "*"))
            .map_or(0.0, |(_, q)| *q)
    };
    let mut chosen: Option<(&Encoded, f32)> = None;
    for encoded in offered {
        let q = quality(encoded.coding);
        if q > 0.0 && chosen.is_none_or(|(_, best)| q > best) {
            chosen = Some((encoded, q));
        }
    }
    chosen.map(|(encoded, _)| encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: &[Encoded] = &[
        Encoded {
            coding: Coding::Brotli,
            body: b"b",
        },
        Encoded {
            coding: Coding::Gzip,
            body: b"g",
        },
    ];

    fn chosen(accept: &str) -> Option<Coding> {
        choose_coding(Some(accept), BOTH).map(|e| e.coding)
    }

    #[test]
    fn no_field_or_nothing_acceptable_means_identity() {
        assert_eq!(choose_coding(None, BOTH), None);
        assert_eq!(
            choose_coding(Some("gzip"), BOTH).map(|e| e.body),
            Some(&b"g"[..])
        );
        assert_eq!(chosen(""), None);
        assert_eq!(chosen("identity"), None);
        assert_eq!(chosen("deflate, zstd"), None);
        assert_eq!(chosen("br;q=0, gzip;q=0"), None);
        assert_eq!(choose_coding(Some("br, gzip"), &[]), None);
    }

    #[test]
    fn brotli_wins_ties_and_quality_decides_otherwise() {
        // What browsers send.
        assert_eq!(chosen("gzip, deflate, br, zstd"), Some(Coding::Brotli));
        assert_eq!(chosen("gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("x-gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("br;q=0.5, gzip;q=0.8"), Some(Coding::Gzip));
        assert_eq!(chosen("BR; Q=1"), Some(Coding::Brotli));
        assert_eq!(chosen("br;q=0, *"), Some(Coding::Gzip));
        assert_eq!(chosen("*;q=0.1"), Some(Coding::Brotli));
    }

    #[test]
    fn a_malformed_quality_is_not_a_preference() {
        assert_eq!(chosen("br;q=high, gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("br;q=2"), None);
        assert_eq!(chosen(",,gzip;;q=0.3,"), Some(Coding::Gzip));
    }
}

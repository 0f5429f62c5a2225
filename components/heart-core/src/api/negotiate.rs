//! Content negotiation: picks a [`Format`] from an `Accept` header (RFC 9110 §12.5.1).

use crate::api::weighted::weighted;
use crate::render::Format;

/// The `Accept` header allows none of the formats the API renders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "none of the accepted media types `{accept}` can be served; \
     available: image/svg+xml, application/json, image/png, text/plain"
)]
pub struct NotAcceptable {
    /// The `Accept` header, shortened for display.
    pub accept: String,
}

/// One `Accept` value from the request's `Accept` field lines, in order: HTTP defines repeated
/// list fields as one list joined with commas (RFC 9110 §5.3). `None` when there is none.
pub fn accept_field<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lines: Vec<&str> = lines.into_iter().collect();
    (!lines.is_empty()).then(|| lines.join(", "))
}

/// Chooses the format for `accept`: the highest quality wins, more specific ranges beat
/// wildcards for the same type, and ties go to SVG, JSON, PNG, text in that order. No header
/// or an empty one means SVG.
pub fn negotiate(accept: Option<&str>) -> Result<Format, NotAcceptable> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(Format::Svg);
    };
    let ranges: Vec<(&str, f32)> = accept.split(',').filter_map(weighted).collect();
    let quality = |format: Format| -> f32 {
        let (kind, _) = format
            .media_type()
            .split_once('/')
            .expect("media types have a slash");
        // The most specific matching range decides (exact > type/* > */*).
        let mut best: Option<(u8, f32)> = None;
        for &(range, q) in &ranges {
            let specificity = if range.eq_ignore_ascii_case(format.media_type()) {
                3
            } else if range
                .strip_suffix("/*")
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
            {
                2
            } else if range == "*/*" {
                1
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    let mut chosen: Option<(Format, f32)> = None;
    for format in Format::ALL {
        let q = quality(format);
        if q > 0.0 && chosen.is_none_or(|(_, best)| q > best) {
            chosen = Some((format, q));
        }
    }
    chosen.map(|(f, _)| f).ok_or_else(|| NotAcceptable {
        accept: crate::config::shown(accept),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_accept_lines_join_into_one_list() {
        assert_eq!(accept_field([]), None);
        assert_eq!(accept_field(["text/plain"]).as_deref(), Some("text/plain"));
        let joined = accept_field(["image/png;q=0.5", "application/json", "text/plain;q=0.1"]);
        assert_eq!(
            joined.as_deref(),
            Some("image/png;q=0.5, application/json, text/plain;q=0.1")
        );
        assert_eq!(negotiate(joined.as_deref()), Ok(Format::Json));
    }

    #[test]
    fn missing_or_empty_accept_means_svg() {
        assert_eq!(negotiate(None), Ok(Format::Svg));
        assert_eq!(negotiate(Some("  ")), Ok(Format::Svg));
    }

    #[test]
    fn exact_media_types_pick_their_format() {
        assert_eq!(negotiate(Some("application/json")), Ok(Format::Json));
        assert_eq!(negotiate(Some("image/png")), Ok(Format::Png));
        assert_eq!(negotiate(Some("text/plain")), Ok(Format::Text));
        assert_eq!(negotiate(Some("IMAGE/SVG+XML")), Ok(Format::Svg));
    }

    #[test]
    fn quality_values_rank_the_choices() {
        assert_eq!(
            negotiate(Some("image/svg+xml;q=0.5, image/png")),
            Ok(Format::Png)
        );
        assert_eq!(
            negotiate(Some("text/plain;q=0.9, application/json;q=0.8")),
            Ok(Format::Text)
        );
    }

    #[test]
    fn wildcards_fall_back_in_preference_order() {
        assert_eq!(negotiate(Some("*/*")), Ok(Format::Svg));
        assert_eq!(negotiate(Some("image/*")), Ok(Format::Svg));
        assert_eq!(
            negotiate(Some("image/*, image/svg+xml;q=0")),
            Ok(Format::Png)
        );
        assert_eq!(negotiate(Some("text/*")), Ok(Format::Text));
    }

    #[test]
    fn browser_accept_header_gets_svg() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                      image/webp,image/apng,*/*;q=0.8";
        assert_eq!(negotiate(Some(chrome)), Ok(Format::Svg));
    }

    #[test]
    fn unservable_accept_is_refused_with_the_header() {
        let err = negotiate(Some("text/html")).expect_err("html is not served here");
        assert!(err.to_string().contains("`text/html`"), "{err}");
        assert!(negotiate(Some("application/json;q=0")).is_err());
        assert!(negotiate(Some("application/json;q=abc")).is_err());
    }
}

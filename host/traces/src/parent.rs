//! The client's trace, from its W3C Trace Context headers (`traceparent`, `tracestate`), read
//! by OpenTelemetry's own propagator: a request that carries one joins that trace. The
//! propagator parses the ids as numbers, so it takes a short or upper-case id (a 31-digit
//! trace id becomes a different, zero-padded one); the header's shape is checked first, as
//! W3C Trace Context defines it, and a `traceparent` of another shape starts a new trace.

use http::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The remote span the request's headers name, if they carry a valid `traceparent`.
pub fn remote_parent(headers: &HeaderMap) -> Option<SpanContext> {
    let traceparent = headers.get("traceparent")?.to_str().ok()?;
    if !well_formed(traceparent.trim()) {
        return None;
    }
    let context = TraceContextPropagator::new().extract(&Headers(headers));
    let parent = context.span().span_context().clone();
    parent.is_valid().then_some(parent)
}

/// `version-traceid-parentid-flags`: two, 32, 16 and two lower-case hex digits; a version
/// after `00` may add fields after a `-`, version `00` may not.
fn well_formed(traceparent: &str) -> bool {
    let bytes = traceparent.as_bytes();
    let hex = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
    };
    let dash = |at: usize| bytes.get(at) == Some(&b'-');
    let fields = hex(0..2) && dash(2) && hex(3..35) && dash(35) && hex(36..52) && dash(52);
    let end = match bytes.len() {
        55 => true,
        _ => !traceparent.starts_with("00") && dash(55),
    };
    fields && hex(53..55) && end
}

/// A request's headers as the propagator reads them (values that are not text are absent).
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    v.parse().expect("a header value"),
                )
            })
            .collect()
    }

    #[test]
    fn a_valid_traceparent_names_the_remote_span() {
        let parent = remote_parent(&headers(&[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("tracestate", "vendor=x"),
        ]))
        .expect("a parent");
        assert_eq!(
            parent.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(parent.span_id().to_string(), "00f067aa0ba902b7");
        assert!(parent.is_remote() && parent.is_sampled());
        assert_eq!(parent.trace_state().get("vendor"), Some("x"));
    }

    #[test]
    fn invalid_or_absent_traceparents_start_a_new_trace() {
        for value in [
            "",
            "garbage",
            // All-zero ids are invalid.
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // Version ff is forbidden.
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // One digit short (the propagator alone takes it), upper case, a field too many.
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-00",
        ] {
            assert_eq!(
                remote_parent(&headers(&[("traceparent", value)])),
                None,
                "{value:?}"
            );
        }
        assert_eq!(remote_parent(&HeaderMap::new()), None);
    }

    #[test]
    fn a_later_version_may_add_fields() {
        let value = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes";
        let parent = remote_parent(&headers(&[("traceparent", value)]));
        assert!(parent.is_some(), "{value}");
    }
}

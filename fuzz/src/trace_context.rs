//! Fuzzes what a request and the environment tell the tracer: the W3C `traceparent` and
//! `tracestate` headers (the first two lines of the input) and the `OTEL_*` variables (the
//! other lines, `NAME=VALUE`). No input may panic. A parent is read only from a `traceparent`
//! of the shape W3C Trace Context defines, and then carries exactly the ids the header wrote
//! (OpenTelemetry's propagator alone pads a short id); a well-formed version-00 header with
//! non-zero ids is never ignored; the request's spans all belong to the parent's trace, the
//! server span under the parent. Trace settings are within their ranges, or refused naming
//! the variable.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use heart_traces::{RequestOutcome, RequestTrace, TraceSettings, remote_parent};
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TraceId;

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let mut lines = data.split(|b| *b == b'\n');
    let traceparent = lines.next().unwrap_or_default();
    let tracestate = lines.next().unwrap_or_default();
    check_parent(traceparent, tracestate);
    let rest: Vec<u8> = lines
        .flat_map(|l| l.iter().copied().chain(*b"\n"))
        .collect();
    check_settings(&String::from_utf8_lossy(&rest));
}

fn check_parent(traceparent: &[u8], tracestate: &[u8]) {
    let mut headers = http::HeaderMap::new();
    for (name, value) in [("traceparent", traceparent), ("tracestate", tracestate)] {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
    }
    let sent = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    let parent = remote_parent(&headers);
    let lower_hex = |s: &str| s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let field = |range: std::ops::Range<usize>| sent.get(range).unwrap_or_default();
    let Some(parent) = parent else {
        let ids_set =
            field(3..35).bytes().any(|c| c != b'0') && field(36..52).bytes().any(|c| c != b'0');
        let version_00 = sent.len() == 55
            && sent.starts_with("00-")
            && lower_hex(field(3..35))
            && lower_hex(field(36..52))
            && lower_hex(field(53..55))
            && [2, 35, 52].iter().all(|at| sent.as_bytes()[*at] == b'-');
        assert!(
            !(version_00 && ids_set),
            "a well-formed traceparent was ignored: {sent:?}"
        );
        return;
    };
    assert!(parent.is_valid() && parent.is_remote(), "{sent:?}");
    assert!(
        lower_hex(field(0..2)) && field(0..2) != "ff",
        "version of {sent:?}"
    );
    assert_eq!(
        parent.trace_id().to_string(),
        field(3..35),
        "trace id of {sent:?}"
    );
    assert_eq!(
        parent.span_id().to_string(),
        field(36..52),
        "span id of {sent:?}"
    );
    let flags = u8::from_str_radix(field(53..55), 16).expect("checked flags");
    assert_eq!(
        parent.is_sampled(),
        flags & 1 == 1,
        "sampled flag of {sent:?}"
    );

    let started = Instant::now();
    let trace = RequestTrace::begin(Some(parent.clone()), started);
    assert_eq!(trace.trace_id(), parent.trace_id());
    assert_eq!(trace.sampled(), parent.is_sampled());
    let outcome = RequestOutcome {
        method: "GET",
        route: "/...",
        path: "/heart.svg",
        status: 200,
        ended: started + Duration::from_micros(5),
        component: None,
    };
    let spans = trace.spans(&outcome, &InstrumentationScope::builder("fuzz").build());
    assert_eq!(spans[0].parent_span_id, parent.span_id());
    assert!(
        spans
            .iter()
            .all(|s| s.span_context.trace_id() == parent.trace_id())
    );
    assert_ne!(trace.trace_id(), TraceId::INVALID);
}

fn check_settings(text: &str) {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=') {
            env.entry(name.to_owned())
                .or_insert_with(|| value.to_owned());
        }
    }
    match TraceSettings::from_lookup(|name| env.get(name).cloned(), "heart-display") {
        Ok(None) => {}
        Ok(Some(settings)) => {
            // Schemes are case-insensitive (RFC 3986).
            let endpoint = settings.endpoint.to_ascii_lowercase();
            assert!(endpoint.starts_with("http://"), "{settings:?}");
            assert!(
                (1..=settings.max_queue_size).contains(&settings.max_export_batch_size),
                "{settings:?}"
            );
            assert!(!settings.schedule_delay.is_zero() && !settings.export_timeout.is_zero());
            assert!(
                !settings.service_name.trim().is_empty() || env.contains_key("OTEL_SERVICE_NAME")
            );
        }
        Err(error) => {
            let message = error.to_string();
            assert!(
                env.keys()
                    .any(|name| name.starts_with("OTEL_") && message.contains(name.as_str())),
                "a refusal names its variable: {message}"
            );
        }
    }
}

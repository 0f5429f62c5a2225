//! Traces over OTLP/HTTP, received by a collector of the test's own: a real HTTP server that
//! decodes each export with the official protobuf definitions (opentelemetry-proto). The
//! spans' names, parent links, attributes and the client's trace id are checked as a
//! collector sees them; a collector that is down or that does not answer costs requests
//! nothing, and what it loses is counted.

use std::time::Duration;

use heart_testing::otlp::{Collector, Resource, Span, attribute, hex};

use crate::container::{ServedContainer, process, run_to_end};
use crate::support::{BUILDS, Host, Options, component, metric, wait_until};

/// `heart_trace_spans_total{outcome}` as the host reports it now.
fn spans_counted(host: &Host, outcome: &str) -> Option<f64> {
    let scrape = host.get("/metrics", None).text();
    metric(&scrape, "heart_trace_spans_total", &[("outcome", outcome)])
}

/// The server span of the request for `path`, and its children.
fn request_spans(spans: &[(Resource, Span)], path: &str) -> (Span, Vec<Span>) {
    let server = spans
        .iter()
        .map(|(_, span)| span)
        .find(|span| attribute(&span.attributes, "url.path").as_deref() == Some(path))
        .unwrap_or_else(|| panic!("no server span for {path}"))
        .clone();
    let children = spans
        .iter()
        .map(|(_, span)| span)
        .filter(|span| span.parent_span_id == server.span_id)
        .cloned()
        .collect();
    (server, children)
}

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

#[test]
fn each_request_is_a_span_with_its_instantiation_and_guest_call_in_the_client_trace() {
    for (_, wasm) in BUILDS {
        requests_are_traced(wasm);
    }
}

/// The three kinds of request, traced with `wasm` serving.
fn requests_are_traced(wasm: &str) {
    let collector = Collector::start(Duration::ZERO);
    let endpoint = collector.endpoint();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "heart-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "20"),
        ("POD_NAME", "heart-0"),
        ("POD_NAMESPACE", "hearts"),
        ("RUST_LOG", "heart_host=debug"),
    ];
    let args = ["--instance-reuse", "100"];
    let host = Host::start(Options {
        wasm,
        env: &env,
        args: &args,
        ..Options::default()
    });
    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let fresh = host.get_with_headers("/heart.svg", &[("traceparent", &traceparent)]);
    assert_eq!(fresh.status, 200);
    // The instance of the first request answers the second.
    assert_eq!(host.get("/api/symbol", None).status, 200);
    assert_eq!(host.get("/healthz", None).status, 200);
    wait_until(
        "the collector has the three requests' spans",
        Duration::from_secs(10),
        || collector.spans().len() >= 6,
    );
    let spans = collector.spans();
    assert_eq!(spans.len(), 6, "3 server spans, 2 + 1 + 0 children");

    let (resource, _) = &spans[0];
    for (key, value) in [
        ("service.name", "heart-test"),
        ("k8s.pod.name", "heart-0"),
        ("k8s.namespace.name", "hearts"),
    ] {
        assert_eq!(
            attribute(&resource.attributes, key).as_deref(),
            Some(value),
            "{key}"
        );
    }

    // The client's trace is joined: its span is the parent.
    let (server, children) = request_spans(&spans, "/heart.svg");
    assert_eq!(hex(&server.trace_id), CLIENT_TRACE);
    assert_eq!(hex(&server.parent_span_id), CLIENT_SPAN);
    assert_eq!(server.name, "GET /...");
    for (key, value) in [
        ("http.request.method", "GET"),
        ("http.route", "/..."),
        ("http.response.status_code", "200"),
        ("heart.component", "heart"),
        ("heart.instance", "fresh"),
    ] {
        assert_eq!(
            attribute(&server.attributes, key).as_deref(),
            Some(value),
            "{key}"
        );
    }
    let mut names: Vec<&str> = children.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["execute_wasm_component heart", "instantiate heart"]);
    for child in &children {
        assert_eq!(child.trace_id, server.trace_id);
        assert!(
            child.start_time_unix_nano >= server.start_time_unix_nano
                && child.end_time_unix_nano <= server.end_time_unix_nano,
            "{} within its request",
            child.name
        );
    }

    // Without a traceparent: a trace of its own, no parent; a reused instance, no instantiation.
    let (server, children) = request_spans(&spans, "/api/symbol");
    assert_ne!(hex(&server.trace_id), CLIENT_TRACE);
    assert!(server.parent_span_id.is_empty(), "a root span");
    assert_eq!(
        attribute(&server.attributes, "heart.instance").as_deref(),
        Some("reused")
    );
    let names: Vec<&str> = children.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["execute_wasm_component heart"]);

    // A host route: its own route label, no component.
    let (server, children) = request_spans(&spans, "/healthz");
    assert_eq!(server.name, "GET /healthz");
    assert!(children.is_empty() && attribute(&server.attributes, "heart.component").is_none());

    // The request's log lines carry its trace id.
    let log = host.stderr_until(CLIENT_TRACE);
    assert!(
        log.last().is_some_and(|line| line.contains(CLIENT_TRACE)),
        "no log line with the client's trace id: {log:?}"
    );
    // Counted once the collector's answer is back (the collector keeps spans before it answers).
    wait_until(
        "the six spans counted exported",
        Duration::from_secs(10),
        || spans_counted(&host, "exported") == Some(6.0),
    );
    assert_eq!(spans_counted(&host, "failed"), Some(0.0));
}

#[test]
fn an_unsampled_client_trace_exports_nothing() {
    let collector = Collector::start(Duration::ZERO);
    let endpoint = collector.endpoint();
    let env = [
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &*format!("{endpoint}/v1/traces"),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY", "20"),
    ];
    let host = Host::start(Options {
        env: &env,
        ..Options::default()
    });
    let unsampled = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-00");
    assert_eq!(
        host.get_with_headers("/api/symbol", &[("traceparent", &unsampled)])
            .status,
        200
    );
    assert_eq!(host.get("/api/symbol", None).status, 200);
    wait_until(
        "the sampled request's spans arrive",
        Duration::from_secs(10),
        || collector.spans().len() >= 2,
    );
    // Sent after the unsampled request: had its spans been queued, they would be here.
    assert!(
        collector
            .spans()
            .iter()
            .all(|(_, span)| hex(&span.trace_id) != CLIENT_TRACE),
        "an unsampled trace was exported"
    );
}

/// Requests while the collector is `collector` (down or holding every export), with a queue of
/// 8 spans: every request answers, and the spans are counted as failed or dropped.
fn serve_while_the_collector_fails(endpoint: &str, timeout_ms: &str) -> Host {
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "8"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", timeout_ms),
    ];
    let host = Host::start(Options {
        env: &env,
        ..Options::default()
    });
    for _ in 0..60 {
        let reply = host.get("/api/symbol", None);
        assert_eq!(reply.status, 200);
    }
    host
}

#[test]
fn a_collector_that_is_down_costs_requests_nothing_and_its_spans_are_counted() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let endpoint = format!("http://{}", closed.local_addr().expect("its address"));
    drop(closed);
    let host = serve_while_the_collector_fails(&endpoint, "1000");
    wait_until(
        "failed exports are counted",
        Duration::from_secs(10),
        || spans_counted(&host, "failed").unwrap_or(0.0) > 0.0,
    );
    assert_eq!(spans_counted(&host, "exported"), Some(0.0));
}

#[test]
fn a_collector_that_does_not_answer_costs_requests_nothing_and_drops_are_counted() {
    // Holds every export for longer than the whole test.
    let collector = Collector::start(Duration::from_secs(60));
    let mut host = serve_while_the_collector_fails(&collector.endpoint(), "30000");
    // Served while the one export in flight waited: the queue filled and the rest dropped.
    wait_until(
        "the first export reaches the collector",
        Duration::from_secs(10),
        || collector.requests() > 0,
    );
    assert_eq!(collector.requests(), 1, "one export in flight");
    let dropped = spans_counted(&host, "dropped");
    assert!(
        dropped.is_some_and(|d| d > 0.0),
        "dropped spans: {dropped:?}"
    );
    // The stop waits for the last export no longer than the flush limit (5 s), within the
    // host's own grace.
    assert_eq!(host.terminate(Duration::from_secs(15)), Some(0));
}

#[test]
fn a_container_traces_from_its_own_environment() {
    // As the shim runs it: the settings come from the container's environment, not the
    // process's.
    let collector = Collector::start(Duration::ZERO);
    let endpoint = format!("OTEL_EXPORTER_OTLP_ENDPOINT={}", collector.endpoint());
    let served = ServedContainer::start(
        "heart_http.wasm",
        &[
            &endpoint,
            "OTEL_BSP_SCHEDULE_DELAY=20",
            "POD_NAME=heart-7",
            "POD_NAMESPACE=node-test",
        ],
    );
    assert!(served.text("/api/symbol").contains("symbol"));
    wait_until(
        "the container's spans arrive",
        Duration::from_secs(10),
        || !collector.spans().is_empty(),
    );
    let (resource, span) = &collector.spans()[0];
    assert_eq!(span.name, "GET /...");
    assert_eq!(
        attribute(&resource.attributes, "k8s.pod.name").as_deref(),
        Some("heart-7")
    );
    assert_eq!(
        attribute(&resource.attributes, "service.name").as_deref(),
        Some("heart_http.wasm"),
        "the container's name is the app's"
    );
    assert_eq!(served.stop(), 0);

    // A bad setting is refused at start, named.
    let wasm = std::fs::read(component("heart_http.wasm")).expect("component");
    let bad = process(
        "heart_http",
        &["/heart_http.wasm"],
        &[&endpoint, "OTEL_BSP_SCHEDULE_DELAY=soon", "PORT=0"],
    );
    let error = run_to_end(&wasm, &bad).expect_err("refused").to_string();
    assert!(
        error.contains("OTEL_BSP_SCHEDULE_DELAY `soon`") && error.contains("1..=600000"),
        "{error}"
    );
}

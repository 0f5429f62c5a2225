//! Traces through the shim on a node: the chart's pod, run through CRI as the kubelet runs it,
//! with the OpenTelemetry endpoint in its environment (what the chart's `tracing.otlpEndpoint`
//! sets) sends each request's spans to a collector on the node, named by the pod's identity
//! from the downward API and joined to the client's trace.

use std::time::Duration;

use heart_testing::otlp::{Collector, attribute, hex};

use crate::node::{
    app_of, chart_pod, one_app_at_a_time, ready_pod_of, removed_without_a_trace, url,
};

#[test]
fn the_charts_pod_sends_its_spans_named_by_the_pod() {
    let _port = one_app_at_a_time();
    let collector = Collector::start(Duration::ZERO);
    let mut plan = chart_pod();
    app_of(&mut plan).env.extend([
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
            collector.endpoint(),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "50".to_owned()),
    ]);
    let (node, pod, plan, port) = ready_pod_of(plan);

    let trace = "0af7651916cd43dd8448eb211c80319c";
    let answer = ureq::get(url(port, "/heart.svg"))
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .call()
        .expect("a frame");
    assert_eq!(answer.status(), 200);
    heart_testing::wait_until(
        "the frame's spans reach the collector",
        Duration::from_secs(10),
        || {
            collector
                .spans()
                .iter()
                .any(|(_, span)| hex(&span.trace_id) == trace)
        },
    );
    let spans = collector.spans();
    let (resource, server) = spans
        .iter()
        .find(|(_, span)| {
            hex(&span.trace_id) == trace
                && span.parent_span_id.len() == 8
                && hex(&span.parent_span_id) == "b7ad6b7169203331"
        })
        .unwrap_or_else(|| panic!("no server span joined to the client's: {spans:?}"));
    assert_eq!(
        attribute(&server.attributes, "url.path").as_deref(),
        Some("/heart.svg")
    );
    for (key, value) in [
        ("k8s.pod.name", plan.name.as_str()),
        ("k8s.namespace.name", plan.namespace.as_str()),
    ] {
        assert_eq!(
            attribute(&resource.attributes, key).as_deref(),
            Some(value),
            "{key}"
        );
    }
    let children = spans
        .iter()
        .filter(|(_, span)| span.parent_span_id == server.span_id)
        .count();
    assert_eq!(
        children, 2,
        "a fresh instance: instantiation and guest call"
    );
    removed_without_a_trace(&node, &pod);
}

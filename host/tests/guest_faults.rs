//! Limits against the real host with a purpose-built misbehaving component
//! (`components/heart-faults`): a trap, an endless loop and a memory hog each fail only their
//! own request with a 5xx JSON error, are counted, and the host keeps serving.

mod support;

use std::time::{Duration, Instant};

use support::{Host, Options, metric};

#[test]
fn trap_loop_and_memory_hog_fail_only_their_request() {
    let args = ["--request-timeout-ms", "500", "--memory-limit-mb", "32"];
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &args,
        ..Options::default()
    });
    assert_eq!(host.get("/ok", None).text(), "ok");

    for path in ["/trap", "/loop", "/hog"] {
        let started = Instant::now();
        let reply = host.get(path, None);
        assert!(reply.status >= 500, "{path}: status {}", reply.status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert!(reply.json()["error"].as_str().is_some(), "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
        let after = host.get("/ok", None);
        assert_eq!(
            (after.status, after.text().as_str()),
            (200, "ok"),
            "serving after {path}"
        );
    }

    let metrics = host.get("/metrics", None).text();
    let failures: f64 = ["trap", "timeout", "instantiation"]
        .iter()
        .map(|kind| {
            metric(
                &metrics,
                "heart_wasm_guest_failures_total",
                &[("kind", kind)],
            )
            .unwrap_or(0.0)
        })
        .sum();
    assert_eq!(failures, 3.0, "each fault is counted once:\n{metrics}");
    assert_eq!(
        metric(
            &metrics,
            "heart_wasm_guest_failures_total",
            &[("kind", "instantiation")]
        ),
        Some(0.0)
    );
}

//! Every response carries `Server-Timing`: the total for the host's own routes; for a
//! component's answer also the guest time and whether its instance was made for it (with the
//! instantiation time) or reused, for both WASI builds.

use crate::support::{BUILDS, Host, Options};

/// The `Server-Timing` metrics of `GET path`, by name: the `dur` (ms) or the `desc`.
fn server_timing(host: &Host, path: &str) -> Vec<(String, String)> {
    let reply = host.get(path, None);
    assert_eq!(reply.status, 200, "{path}");
    let header = reply
        .header("server-timing")
        .unwrap_or_else(|| panic!("{path}: no Server-Timing header"))
        .to_owned();
    heart_testing::server_timing(&header)
}

fn names(metrics: &[(String, String)]) -> Vec<&str> {
    metrics.iter().map(|(name, _)| name.as_str()).collect()
}

/// The number metric `name` carries (its `dur` in ms, or its `desc`).
fn number(metrics: &[(String, String)], name: &str) -> f64 {
    let (_, value) = metrics
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {metrics:?}"));
    value
        .parse()
        .unwrap_or_else(|e| panic!("{name} `{value}`: {e}"))
}

#[test]
fn a_fresh_instance_reports_its_instantiation_and_a_reused_one_does_not() {
    for (build, wasm) in BUILDS {
        let args = ["--instance-reuse", "100"];
        let host = Host::start(Options {
            wasm,
            args: &args,
            ..Options::default()
        });
        let first = server_timing(&host, "/api/symbol");
        assert_eq!(
            names(&first),
            ["instantiate", "instance", "guest", "total"],
            "{build}: {first:?}"
        );
        assert_eq!(first[1].1, "fresh", "{build}");
        let (instantiate, guest, total) = (
            number(&first, "instantiate"),
            number(&first, "guest"),
            number(&first, "total"),
        );
        assert!(instantiate > 0.0 && guest > 0.0, "{build}: {first:?}");
        assert!(
            instantiate + guest <= total,
            "{build}: parts within the total: {first:?}"
        );

        let second = server_timing(&host, "/api/symbol");
        assert_eq!(
            names(&second),
            ["instance", "guest", "total"],
            "{build}: {second:?}"
        );
        assert_eq!(second[0].1, "reused", "{build}");
    }
}

#[test]
fn without_reuse_every_request_gets_a_fresh_instance() {
    let host = Host::start(Options::default());
    for _ in 0..3 {
        let metrics = server_timing(&host, "/heart.svg");
        assert_eq!(
            names(&metrics)[..2],
            ["instantiate", "instance"],
            "{metrics:?}"
        );
        assert_eq!(metrics[1].1, "fresh");
    }
}

#[test]
fn the_hosts_own_routes_report_their_total() {
    let host = Host::start(Options::default());
    for path in ["/healthz", "/readyz", "/metrics", "/api/presence"] {
        let metrics = server_timing(&host, path);
        assert_eq!(names(&metrics), ["total"], "{path}: {metrics:?}");
        assert!(number(&metrics, "total") >= 0.0, "{path}");
    }
}

#[test]
fn counted_host_calls_are_reported_per_request_only_when_asked_for() {
    let counted = Host::start(Options {
        env: &[("HEART_HOST_COUNT_HOST_CALLS", "1")],
        args: &["--instance-reuse", "100"],
        ..Options::default()
    });
    let calls = |path: &str| number(&server_timing(&counted, path), "host-calls");
    // A fresh instance reads its variables on its first request; a reused one does not, so the
    // count is per request and smaller the second time.
    let fresh = calls("/heart.svg");
    let reused = calls("/heart.svg");
    assert!(
        reused > 0.0,
        "a reused instance still calls the host: {reused}"
    );
    assert!(
        fresh > reused,
        "the first request reads the variables: {fresh} vs {reused}"
    );
    assert_eq!(
        calls("/heart.svg"),
        reused,
        "the same request, the same calls"
    );

    let plain = Host::start(Options::default());
    let metrics = server_timing(&plain, "/heart.svg");
    assert!(
        !names(&metrics).contains(&"host-calls"),
        "not counted unless asked: {metrics:?}"
    );
}

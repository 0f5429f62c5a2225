//! Instance reuse against the real host: `--instance-reuse N` bounds the requests one instance
//! answers, an instance whose request failed is never reused, and component responses come
//! whole with a `Content-Length`.

use crate::support::{Host, Options, metric};

/// Instances made so far, from `/metrics`.
fn instantiations(host: &Host) -> Option<f64> {
    let scrape = host.get("/metrics", None).text();
    metric(&scrape, "heart_wasm_instantiation_seconds_count", &[])
}

/// Instances alive now (in a request or idle), from `/metrics`.
fn active_instances(host: &Host) -> Option<f64> {
    let scrape = host.get("/metrics", None).text();
    metric(&scrape, "heart_wasm_active_instances", &[])
}

#[test]
fn the_reuse_count_bounds_the_requests_one_instance_answers() {
    const REQUESTS: usize = 12;
    // Sequential requests: instance k answers requests k·N .. k·N+N-1.
    for (reuse, made, left_idle) in [("1", 12.0, 0.0), ("5", 3.0, 1.0), ("100", 1.0, 1.0)] {
        let args = ["--instance-reuse", reuse];
        let host = Host::start(Options {
            args: &args,
            ..Options::default()
        });
        for _ in 0..REQUESTS {
            let reply = host.get("/heart.svg", None);
            assert_eq!(reply.status, 200, "reuse {reuse}");
            assert_eq!(
                reply.header("content-length"),
                Some(reply.body.len().to_string().as_str()),
                "reuse {reuse}: a whole body with its length"
            );
            assert!(reply.text().starts_with("<svg"), "reuse {reuse}");
        }
        assert_eq!(instantiations(&host), Some(made), "reuse {reuse}");
        assert_eq!(active_instances(&host), Some(left_idle), "reuse {reuse}");
    }
}

#[test]
fn an_instance_whose_request_failed_is_not_reused() {
    let args = [
        "--instance-reuse",
        "100",
        "--request-timeout-ms",
        "300",
        "--memory-limit-mb",
        "32",
    ];
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &args,
        ..Options::default()
    });
    let ok = |host: &Host| {
        let reply = host.get("/ok", None);
        assert_eq!((reply.status, reply.text().as_str()), (200, "ok"));
    };
    ok(&host);
    ok(&host);
    assert_eq!(instantiations(&host), Some(1.0));
    let mut made = 1.0;
    for (path, status) in [("/trap", 500), ("/loop", 504), ("/hog", 500)] {
        assert_eq!(host.get(path, None).status, status, "{path}");
        ok(&host);
        ok(&host);
        made += 1.0;
        assert_eq!(
            instantiations(&host),
            Some(made),
            "after {path}: one new instance, then reused"
        );
        assert_eq!(active_instances(&host), Some(1.0), "after {path}");
    }
}

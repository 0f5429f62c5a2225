//! Instance reuse against the real host: `--instance-reuse N` bounds the requests one instance
//! answers, an instance whose request failed is never reused, and component responses come
//! whole with a `Content-Length`.

use crate::support;
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

/// The in-process app with `policy`, serving the real component from `dist/`.
fn app_with(policy: heart_host::InstancePolicy) -> heart_host::App {
    let options = heart_host::AppOptions {
        manifest: support::root().join("spin.toml"),
        cache_dir: None,
        engine: heart_host::engine::EngineOptions::default(),
        config_dir: None,
        policy,
    };
    heart_host::App::load_with_env(&options, |_| None).expect("the app loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_idle_past_the_limit_is_dropped_before_the_next_request() {
    use http_body_util::{BodyExt, Empty};
    let idle_timeout = std::time::Duration::from_millis(200);
    let app = app_with(heart_host::InstancePolicy {
        max_reuse: 100,
        idle_timeout,
        ..heart_host::InstancePolicy::default()
    });
    let component = app.route("/api/symbol").expect("routed");
    let answer = || async {
        let request = hyper::Request::builder()
            .uri("http://localhost/api/symbol")
            .body(Empty::new().map_err(|e| match e {}).boxed_unsync())
            .expect("request");
        let response = component.handler.handle(request).await.expect("answered");
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.expect("body");
    };
    let made = || app.metrics().instantiation.get_sample_count();
    answer().await;
    answer().await;
    assert_eq!(made(), 1, "the second request reused the first instance");
    tokio::time::sleep(idle_timeout * 2).await;
    answer().await;
    assert_eq!(made(), 2, "the idle instance expired; a fresh one answered");
    answer().await;
    assert_eq!(made(), 2, "and that one is reused in turn");
    assert_eq!(
        app.metrics().active_instances.get(),
        1,
        "the expired one is gone"
    );
}

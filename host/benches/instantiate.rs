//! Per-request cost in-process: instantiate (or reuse) the real heart-http component and let it
//! answer one request, body read to the end, with no network in between. Fresh instance per
//! request vs an instance reused up to 1000 times (goals, issue 5: p50 ≤ 30 µs fresh, ≤ 5 µs
//! reused for the smallest route).
//!
//! Needs `cargo xtask build` first (the component in dist/). `cargo xtask bench` runs it.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use heart_host::runtime::engine::EngineOptions;
use heart_host::{App, AppOptions, InstancePolicy};
use http_body_util::{BodyExt, Empty};

fn app(max_reuse: usize) -> App {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("..");
    let options = AppOptions {
        manifest: root.join("spin.toml"),
        cache_dir: heart_host::runtime::compile_cache::default_dir(),
        engine: EngineOptions::default(),
        config_dir: None,
        policy: InstancePolicy {
            max_reuse,
            ..InstancePolicy::default()
        },
        watch: false,
    };
    App::load(&options)
        .expect("run `cargo xtask build` first: the bench loads dist/heart_http.wasm")
}

fn request(path: &str) -> hyper::Request<wasmtime_wasi_http::WasiBody> {
    hyper::Request::builder()
        .uri(format!("http://localhost{path}"))
        .body(Empty::new().map_err(|e| match e {}).boxed_unsync())
        .expect("valid request")
}

fn per_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("instantiate_and_handle");
    for (mode, reuse) in [("fresh", 1), ("reused", 1000)] {
        let app = runtime.block_on(async { app(reuse) });
        for path in ["/api/symbol", "/heart.svg"] {
            let component = app.route(path).expect("routed");
            let streams = heart_core::api::streams(path);
            group.bench_function(format!("{mode}{path}"), |b| {
                b.to_async(&runtime).iter(|| async {
                    let (response, _) = component.handle(request(path), streams).await;
                    assert_eq!(response.status(), 200, "the component answers");
                    let body = response.into_body().collect().await.expect("body");
                    assert!(!body.to_bytes().is_empty());
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, per_request);
criterion_main!(benches);

//! heart-display as a WASI 0.2 HTTP component: a thin adapter that turns the `wasi:http`
//! request into a plain [`heart_core::api::ApiRequest`], reads the app's variables through
//! `wasi:config/store@0.2.0-draft-2024-09-27`, and turns the plain response back.
//!
//! It imports only standard WASI 0.2 interfaces and `wasi:config/store`, so the same component
//! runs under `spin up`, containerd-shim-spin and heart-host. With the `env-config` feature it
//! reads `HEART_*` environment variables instead and imports nothing beyond standard WASI 0.2,
//! for plain WASI HTTP hosts (`wasmtime serve`, runwasi's wasmtime shim).
//!
//! The handler takes spin-sdk's `wasi:http` resources as they are rather than its `Request` and
//! `Response` conversions: those read every header and the whole request body (which no route
//! uses) and write the response body through a poll loop, each step a call into the host. Here
//! a request costs the few host calls it needs (see `io.rs`).
//!
//! Heart frames carry the instance's own figures (`heart-guest`): its memory, requests served,
//! age, config generation and pod.
//!
//! The variables are read once per instance (`config()`): hosts that make an instance per
//! request (Spin, `wasmtime serve`) read them for every request as before, and heart-host, which
//! can reuse instances, retires an idle instance once the variables it was made with are
//! replaced. A reused instance so saves a host call per request, and a fresh one reads them all
//! in one call (`get-all`) rather than one per variable.
#![deny(missing_docs)]
// The SDK's export macro generates the canonical-ABI glue, which is unsafe code.
#![allow(unsafe_code)]

mod io;
mod live;

use std::sync::OnceLock;

use heart_core::HeartConfig;
use heart_core::api::{self, ApiRequest, ApiResponse, LiveAnswer};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};

heart_guest::variable_readers!(spin_sdk::wit::wasi::config::store);

/// The app's config as this instance's variables give it, and the config generation they came
/// from (where the host says): read on the first request, kept while valid. An invalid or
/// unreadable config is read again on the next request, so its error is always current.
fn config() -> Result<&'static (HeartConfig, Option<u64>), ApiResponse> {
    static CONFIG: OnceLock<(HeartConfig, Option<u64>)> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config);
    }
    let variables = variables();
    let config = api::config_from_variables(|name| variables.get(name))?;
    let generation = heart_guest::config_generation(|name| variables.get(name));
    Ok(CONFIG.get_or_init(|| (config, generation)))
}

#[spin_sdk::http_component]
fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    let started = heart_guest::request_started();
    let plain = match config() {
        Ok((config, generation)) => {
            let head = io::RequestHead::read(&request);
            let figures =
                api::is_frame(head.path()).then(|| heart_guest::figures(started, *generation));
            let plain = ApiRequest {
                method: &head.method,
                path: head.path(),
                query: head.query(),
                accept: head.accept.as_deref(),
                accept_encoding: head.accept_encoding.as_deref(),
                runtime: figures.as_ref(),
            };
            match api::live(&plain, config) {
                Some(LiveAnswer::Stream(stream)) => {
                    let closing = || heart_guest::streams_closing(variable);
                    return live::stream(response_out, &stream, closing);
                }
                Some(LiveAnswer::Respond(response)) => response,
                None => api::handle(&plain, config, heart_assets::ASSETS),
            }
        }
        Err(response) => response,
    };
    io::respond(response_out, plain);
}

//! heart-display as a WASI 0.3 HTTP component (`wasi:http/handler@0.3.0`, spin-sdk 7): the same
//! thin adapter as the WASI 0.2 build, for hosts already on WASI 0.3 (wasmtime 50, heart-host).
//! Spin 4.0.2 rejects WASI 0.3.0 components, so the 0.2 build stays the default artifact.
//!
//! Heart frames carry the instance's own figures (`heart-guest`), and `/live` streams the
//! terminal heart (`live.rs`), as in the 0.2 build.
//!
//! With the `env-config` feature it reads `HEART_*` environment variables instead of
//! `wasi:config/store@0.2.0-draft-2024-09-27` (which `wasmtime serve` does not provide), as the
//! 0.2 build's plain-WASI variant does, so `wasmtime serve` can run it with its own instance
//! reuse.
#![deny(missing_docs)]
// The SDK's export macro generates the canonical-ABI glue, which is unsafe code.
#![allow(unsafe_code)]

mod live;

use heart_core::api::{self, ApiRequest, ApiResponse, LiveAnswer};
use spin_sdk::http::{BoxBody, FullBody, Request, Response, box_body};

heart_guest::variable_readers!(spin_sdk::experimental::wasi::config::store);

/// Converts the plain response into an `http` response.
fn into_response(plain: ApiResponse) -> Response<BoxBody> {
    let mut builder = Response::builder().status(plain.status);
    for (name, value) in plain.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(box_body(FullBody::new(bytes::Bytes::from(plain.body))))
        .expect("status codes and header names come from heart-core and are valid")
}

/// Handles one request.
#[spin_sdk::http_service]
async fn handle(request: Request) -> Response<BoxBody> {
    let started = heart_guest::request_started();
    let variables = variables();
    let config = match api::config_from_variables(|name| variables.get(name)) {
        Ok(config) => config,
        Err(response) => return into_response(response),
    };
    let uri = request.uri();
    let field = |name: &str| {
        api::accept_field(
            request
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
    };
    let accept = field("accept");
    let accept_encoding = field("accept-encoding");
    let figures = api::is_frame(uri.path()).then(|| {
        heart_guest::figures(
            started,
            heart_guest::config_generation(|name| variables.get(name)),
        )
    });
    let plain = ApiRequest {
        method: request.method().as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        accept: accept.as_deref(),
        accept_encoding: accept_encoding.as_deref(),
        runtime: figures.as_ref(),
    };
    match api::live(&plain, &config) {
        Some(LiveAnswer::Stream(stream)) => {
            live::response(stream, || heart_guest::streams_closing(variable))
        }
        Some(LiveAnswer::Respond(response)) => into_response(response),
        None => into_response(api::handle(&plain, &config, heart_assets::ASSETS)),
    }
}

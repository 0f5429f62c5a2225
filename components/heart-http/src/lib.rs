//! heart-display as a WASI 0.2 HTTP component: a thin adapter that turns the `wasi:http`
//! request into a plain [`heart_core::api::ApiRequest`], reads the app's variables through
//! `wasi:config/store@0.2.0-draft-2024-09-27`, and turns the plain response back.
//!
//! It imports only standard WASI 0.2 interfaces and `wasi:config/store`, so the same component
//! runs under `spin up`, containerd-shim-spin and heart-host. With the `env-config` feature it
//! reads `HEART_*` environment variables instead and imports nothing beyond standard WASI 0.2,
//! for plain WASI HTTP hosts (`wasmtime serve`, runwasi's wasmtime shim).
#![deny(missing_docs)]
// The SDK's export macro generates the canonical-ABI glue, which is unsafe code.
#![allow(unsafe_code)]

use heart_core::api::{self, ApiRequest, ApiResponse};
use spin_sdk::http::{Request, Response};

/// Reads one variable from `wasi:config/store`.
#[cfg(not(feature = "env-config"))]
fn variable(name: &str) -> Result<Option<String>, String> {
    use spin_sdk::wit::wasi::config::store;
    store::get(name).map_err(|e| match e {
        store::Error::Upstream(m) | store::Error::Io(m) => m,
    })
}

/// Reads one variable from the WASI environment: `love_level` is `HEART_LOVE_LEVEL`.
#[cfg(feature = "env-config")]
fn variable(name: &str) -> Result<Option<String>, String> {
    Ok(std::env::var(format!("HEART_{}", name.to_ascii_uppercase())).ok())
}

/// Converts the plain response into the SDK's response.
fn into_response(plain: ApiResponse) -> Response {
    let mut builder = Response::builder();
    builder.status(plain.status);
    for (name, value) in plain.headers {
        builder.header(name, value);
    }
    builder.body(plain.body).build()
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let config = match api::config_from_variables(variable) {
        Ok(config) => config,
        Err(response) => return into_response(response),
    };
    let method = request.method().to_string();
    let plain = ApiRequest {
        method: &method,
        path: request.path(),
        query: request.query(),
        accept: request.header("accept").and_then(|v| v.as_str()),
    };
    into_response(api::handle(&plain, &config, heart_assets::ASSETS))
}

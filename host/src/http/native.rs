//! The native baseline for benchmarks (cargo feature `native-baseline`, never in a release
//! build): `/native/<path>` answers with the very routing function the component runs
//! (`heart_core::api::handle`), called in-process with the component's live variables, so the
//! Wasm/native ratio measures only what the sandbox costs.

use heart_core::api::{self, ApiRequest};
use hyper::{Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use crate::app::App;
use crate::response::{error, respond};

/// The route prefix.
pub const PREFIX: &str = "/native/";

/// Answers `request` natively, as the first component would.
pub fn answer<B>(app: &App, request: &Request<B>) -> Response<WasiBody> {
    let Some(component) = app.component(0) else {
        return error(StatusCode::NOT_FOUND, "no component to mirror");
    };
    let variables = component.variables();
    let path = &request.uri().path()[PREFIX.len() - 1..];
    let accept = api::accept_field(
        request
            .headers()
            .get_all(hyper::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let plain = ApiRequest {
        method: request.method().as_str(),
        path,
        query: request.uri().query().unwrap_or(""),
        accept: accept.as_deref(),
        // No static files here (the baseline serves frames only).
        accept_encoding: None,
        runtime: None,
    };
    // As in the component: a bad config is answered with the core's own error response.
    let answer = match api::config_from_variables(|name| Ok(variables.get(name).cloned())) {
        Ok(config) => api::handle(&plain, &config, &[]),
        Err(response) => response,
    };
    // The answer's own headers, `Content-Type` among them, replace the placeholder type.
    let mut response = respond(
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "application/octet-stream",
        answer.body,
    );
    for (name, value) in &answer.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

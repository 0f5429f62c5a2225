//! Host-generated responses (health, metrics, beats and errors), and the request facts they
//! are decided on.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

/// `body` as one complete frame (hyper sends it with a `Content-Length`).
pub fn whole_body(body: impl Into<Bytes>) -> WasiBody {
    Full::new(body.into())
        .map_err(|e: Infallible| match e {})
        .boxed_unsync()
}

/// A complete response with `content_type` and `body`.
pub fn respond(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<WasiBody> {
    let mut response = Response::new(whole_body(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        content_type
            .parse()
            .expect("static content types are valid header values"),
    );
    response
}

/// A JSON error body `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response<WasiBody> {
    let body = serde_json::json!({ "error": message }).to_string();
    respond(status, "application/json", body)
}

/// The body length a request declares in `Content-Length`, if it declares a valid one.
pub fn declared_length<B>(request: &Request<B>) -> Option<u64> {
    request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

//! A request's way in: the host's own routes (health, metrics and, when served, presence)
//! first, then the component whose manifest route matched, within the body limit and the
//! server's concurrency. Every request is counted and timed under a bounded `route` label.

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use crate::http::response::{declared_length, error, respond};
use crate::http::server::Shared;
use crate::http::server_timing;
use crate::instance::Timing;
use crate::ops::beat;

/// Paths the host answers itself (never a component), each its own `route` label.
const HOST_ROUTES: [&str; 4] = [
    "/metrics",
    "/healthz",
    "/readyz",
    "/.well-known/spin/health",
];

/// The `route` label of a request for `path`: a host route's own path, else the manifest route
/// that matched it (as Spin labels requests: `/...` for this app's one component), else
/// `other`. The labels are bounded by the host's routes and the manifest's, whatever paths
/// clients invent.
pub(crate) fn route_label<'a>(shared: &'a Shared, path: &str) -> &'a str {
    let presence_routes = [beat::PATH, beat::AVAILABLE_PATH];
    if let Some(own) = HOST_ROUTES.iter().find(|r| **r == path) {
        return own;
    }
    #[cfg(feature = "native-baseline")]
    if path.starts_with(crate::http::native::PREFIX) {
        return crate::http::native::PREFIX;
    }
    if shared.options.presence
        && let Some(own) = presence_routes.iter().find(|r| **r == path)
    {
        return own;
    }
    shared
        .app
        .matched_route(path)
        .map_or("other", |(route, _)| route)
}

/// Answers one request and records it in the metrics.
pub(crate) async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<WasiBody> {
    let started = std::time::Instant::now();
    let path = request.uri().path();
    let route = route_label(shared, path);
    // heart-core decides what a heart frame is; a frame served is a beat.
    let is_frame = heart_core::api::is_frame(path);
    let (mut response, timing) = answer(shared, request).await;
    response.headers_mut().insert(
        server_timing::NAME,
        server_timing::value(timing.as_ref(), started.elapsed()),
    );
    let metrics = shared.app.metrics();
    metrics
        .requests
        .with_label_values(&[route, response.status().as_str()])
        .inc();
    metrics
        .request_duration
        .with_label_values(&[route])
        .observe(started.elapsed().as_secs_f64());
    if is_frame && response.status() == StatusCode::OK {
        metrics.beats.inc();
    }
    response
}

/// The host route's answer, or the matched component's with what it cost there.
async fn answer(
    shared: &Shared,
    request: Request<Incoming>,
) -> (Response<WasiBody>, Option<Timing>) {
    match host_answer(shared, request).await {
        HostAnswer::Answered(response) => (response, None),
        HostAnswer::NotOurs(request) => component_answer(shared, request).await,
    }
}

/// What the host's own routes make of a request.
enum HostAnswer {
    /// A host route answered it.
    Answered(Response<WasiBody>),
    /// Not a host route: the request, for the components.
    NotOurs(Request<Incoming>),
}

/// The answer of the host's own route for `request`, or the request back when it is not one.
async fn host_answer(shared: &Shared, request: Request<Incoming>) -> HostAnswer {
    let text = "text/plain; charset=utf-8";
    HostAnswer::Answered(match request.uri().path() {
        "/healthz" => respond(StatusCode::OK, text, "ok\n"),
        "/readyz" => respond(StatusCode::OK, text, "ready\n"),
        "/.well-known/spin/health" => respond(StatusCode::OK, text, "OK"),
        "/metrics" => {
            let metrics = shared.app.metrics();
            metrics.record_presence(&shared.app.presence().counts());
            respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.encode(),
            )
        }
        beat::PATH if shared.options.presence => beat::answer(&shared.app, request).await,
        beat::AVAILABLE_PATH if shared.options.presence => beat::availability(&request),
        #[cfg(feature = "native-baseline")]
        path if path.starts_with(crate::http::native::PREFIX) => {
            crate::http::native::answer(&shared.app, &request)
        }
        _ => return HostAnswer::NotOurs(request),
    })
}

/// The answer of the component whose manifest route matched, within the body limit and the
/// server's concurrency.
async fn component_answer(
    shared: &Shared,
    request: Request<Incoming>,
) -> (Response<WasiBody>, Option<Timing>) {
    let Some(component) = shared.app.route(request.uri().path()) else {
        return (
            error(StatusCode::NOT_FOUND, "no component serves this path"),
            None,
        );
    };
    let declared_length = declared_length(&request);
    if declared_length.is_some_and(|n| n > shared.options.max_request_body) {
        let message = format!(
            "request body of {} bytes is over the {}-byte limit",
            declared_length.unwrap_or_default(),
            shared.options.max_request_body
        );
        return (error(StatusCode::PAYLOAD_TOO_LARGE, &message), None);
    }
    let Ok(_permit) = shared.permits.acquire().await else {
        return (
            error(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down"),
            None,
        );
    };
    tracing::debug!(method = %request.method(), uri = %request.uri(), component = %component.id, "request");
    let request = request.map(|body| body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
    let (response, timing) = component.handle(request).await;
    (response, Some(timing))
}

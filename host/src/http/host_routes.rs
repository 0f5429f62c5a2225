//! A request's way in: the host's own routes (health, metrics and, when served, presence)
//! first, then the component whose manifest route matched, within the body limit and the
//! server's concurrency. Every request is counted and timed under a bounded `route` label.

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use crate::http::response::{declared_length, error, respond};
use crate::http::server::Shared;
use crate::http::{server_timing, streams};
use crate::instance::Timing;
use crate::ops::beat;

/// The routes the host answers itself (never a component), each its own `route` label.
#[derive(Debug, Clone, Copy)]
enum HostRoute {
    Metrics,
    Healthz,
    Readyz,
    SpinHealth,
    /// `GET /api/presence`, when presence is served.
    Presence,
    /// `POST /api/beat`, when presence is served.
    Beat,
    /// `/native/…` (feature `native-baseline`).
    #[cfg(feature = "native-baseline")]
    Native,
}

impl HostRoute {
    /// The host route serving `path`, if any: presence only when `presence` is served.
    fn find(path: &str, presence: bool) -> Option<Self> {
        match path {
            "/metrics" => Some(Self::Metrics),
            "/healthz" => Some(Self::Healthz),
            "/readyz" => Some(Self::Readyz),
            "/.well-known/spin/health" => Some(Self::SpinHealth),
            beat::AVAILABLE_PATH if presence => Some(Self::Presence),
            beat::PATH if presence => Some(Self::Beat),
            #[cfg(feature = "native-baseline")]
            path if path.starts_with(crate::http::native::PREFIX) => Some(Self::Native),
            _ => None,
        }
    }

    /// Its metric label: its path (the prefix for `/native/…`).
    fn label(self) -> &'static str {
        match self {
            Self::Metrics => "/metrics",
            Self::Healthz => "/healthz",
            Self::Readyz => "/readyz",
            Self::SpinHealth => "/.well-known/spin/health",
            Self::Presence => beat::AVAILABLE_PATH,
            Self::Beat => beat::PATH,
            #[cfg(feature = "native-baseline")]
            Self::Native => crate::http::native::PREFIX,
        }
    }
}

/// The `route` label of a request for `path`: a host route's own path, else the manifest route
/// that matched it (as Spin labels requests: `/...` for this app's one component), else
/// `other`. The labels are bounded by the host's routes and the manifest's, whatever paths
/// clients invent.
pub(crate) fn route_label<'a>(shared: &'a Shared, path: &str) -> &'a str {
    if let Some(own) = HostRoute::find(path, shared.options.presence) {
        return own.label();
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
    let Some(route) = HostRoute::find(request.uri().path(), shared.options.presence) else {
        return HostAnswer::NotOurs(request);
    };
    let text = "text/plain; charset=utf-8";
    HostAnswer::Answered(match route {
        HostRoute::Healthz => respond(StatusCode::OK, text, "ok\n"),
        HostRoute::Readyz => respond(StatusCode::OK, text, "ready\n"),
        HostRoute::SpinHealth => respond(StatusCode::OK, text, "OK"),
        HostRoute::Metrics => {
            let metrics = shared.app.metrics();
            metrics.record_presence(&shared.app.presence().counts());
            respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.encode(),
            )
        }
        HostRoute::Beat => beat::answer(&shared.app, request).await,
        HostRoute::Presence => beat::availability(&request),
        #[cfg(feature = "native-baseline")]
        HostRoute::Native => crate::http::native::answer(&shared.app, &request),
    })
}

/// The answer of the component whose manifest route matched, within the body limit, the
/// server's concurrency and, for a stream, the stream limit.
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
    let stream_slot = if heart_core::api::streams(request.uri().path()) {
        let Some(slot) = streams::admit(&shared.streams) else {
            let limit = shared.options.max_streams;
            return (streams::refused(limit, shared.app.metrics()), None);
        };
        Some(slot)
    } else {
        None
    };
    let Ok(_permit) = shared.permits.acquire().await else {
        return (
            error(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down"),
            None,
        );
    };
    tracing::debug!(method = %request.method(), uri = %request.uri(), component = %component.id, "request");
    let request = request.map(|body| body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
    let (response, timing) = component.handle(request).await;
    let response = match stream_slot {
        Some(slot) => streams::hold(response, slot),
        None => response,
    };
    (response, Some(timing))
}

//! A request's way through the host: resolved once into its [`Target`], answered by a host
//! route or by the component whose manifest route matched (within the body limit, the
//! server's concurrency and, for a stream, the stream limit), then counted and timed under its
//! bounded `route` label with its `Server-Timing` header.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tracing::Instrument;
use wasmtime_wasi_http::WasiBody;

use crate::http::host_routes;
use crate::http::shared::Shared;
use crate::http::target::Target;
use crate::http::{compression, server_timing, stream_limit};
use crate::instance::{Component, InstanceUse, Timing};
use crate::response::{declared_length, error};
use crate::traces::{ComponentCall, RequestOutcome, RequestTrace, Tracer, remote_parent};

/// Answers one request and records it in the metrics (and, when traces are on, its spans).
pub(crate) async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<WasiBody> {
    let started = Instant::now();
    match shared.app.tracer() {
        None => answer(shared, request, started).await.response,
        Some(tracer) => traced(shared, tracer, request, started).await,
    }
}

/// [`answer`] within the request's trace (the client's, if it sent a `traceparent`): its log
/// lines carry the trace id, and its spans are handed to `tracer` after it.
async fn traced(
    shared: &Shared,
    tracer: &Tracer,
    request: Request<Incoming>,
    started: Instant,
) -> Response<WasiBody> {
    let trace = RequestTrace::begin(remote_parent(request.headers()), started);
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let log = tracing::info_span!("request", trace_id = %trace.trace_id());
    let Answered {
        response,
        route,
        component,
        timing,
    } = answer(shared, request, started).instrument(log).await;
    let call = component
        .as_deref()
        .zip(timing)
        .and_then(|(component, timing)| {
            Some(ComponentCall {
                id: &component.id,
                started: timing.started?,
                instantiated: match timing.instance {
                    InstanceUse::Fresh { instantiate } => Some(instantiate),
                    _ => None,
                },
                reused: timing.instance == InstanceUse::Reused,
                guest: timing.guest,
            })
        });
    let outcome = RequestOutcome {
        method: method.as_str(),
        route,
        path: &path,
        status: response.status().as_u16(),
        ended: Instant::now(),
        component: call,
    };
    tracer.record(&trace, &outcome);
    response
}

/// A request answered, with what its trace needs.
struct Answered<'a> {
    response: Response<WasiBody>,
    /// Its `route` label.
    route: &'a str,
    /// The component that answered, if one did.
    component: Option<Arc<Component>>,
    timing: Option<Timing>,
}

/// Answers one request and records it in the metrics.
async fn answer(shared: &Shared, request: Request<Incoming>, started: Instant) -> Answered<'_> {
    let path = request.uri().path();
    // heart-core decides what a heart frame is; a frame served is a beat.
    let is_frame = heart_core::api::is_frame(path);
    let target = Target::resolve(shared, path);
    let route = target.label();
    let streaming = matches!(target, Target::Component { streams: true, .. });
    let mut answering = None;
    let (mut response, timing) = match target {
        Target::Host(own) => (host_routes::answer(shared, own, request).await, None),
        Target::Component {
            component, streams, ..
        } => {
            let answered = component_answer(shared, &component, streams, request).await;
            answering = Some(component);
            answered
        }
        Target::NotFound => (
            error(StatusCode::NOT_FOUND, "no component serves this path"),
            None,
        ),
    };
    if streaming {
        response.extensions_mut().insert(compression::Streaming);
    }
    compression::vary(&mut response);
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
    Answered {
        response,
        route,
        component: answering,
        timing,
    }
}

/// The answer of the component whose manifest route matched, within the body limit, the
/// server's concurrency and, for a stream, the stream limit.
async fn component_answer(
    shared: &Shared,
    component: &Component,
    streams: bool,
    request: Request<Incoming>,
) -> (Response<WasiBody>, Option<Timing>) {
    let declared_length = declared_length(&request);
    if declared_length.is_some_and(|n| n > shared.options.max_request_body) {
        let message = format!(
            "request body of {} bytes is over the {}-byte limit",
            declared_length.unwrap_or_default(),
            shared.options.max_request_body
        );
        return (error(StatusCode::PAYLOAD_TOO_LARGE, &message), None);
    }
    let stream_slot = if streams {
        let Some(slot) = stream_limit::admit(&shared.streams) else {
            let limit = shared.options.max_streams;
            return (stream_limit::refused(limit, shared.app.metrics()), None);
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
    let (response, timing) = component.handle(request, streams).await;
    let response = match stream_slot {
        Some(slot) => stream_limit::hold(response, slot),
        None => response,
    };
    (response, Some(timing))
}

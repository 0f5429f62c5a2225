//! The host's presence service: `GET /api/presence` says it is there, `POST /api/beat` records
//! a client heartbeat in the presence table (the app's background sweep ages clients that
//! stopped beating: [`crate::app::background`]).

use std::time::Duration;

use heart_core::presence::{
    AVAILABILITY_PATH, Availability, BEAT_PATH, BeatEffect, BeatReport, BeatReportError,
    MAX_BEAT_BODY_BYTES,
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use crate::metrics::Metrics;
use crate::presence::{Presence, PresenceError};
use crate::response::{declared_length, error, respond};

/// The route.
pub const PATH: &str = BEAT_PATH;

/// The route that tells a page presence is tracked here (the component answers it with
/// `false` where no host service takes it first).
pub const AVAILABLE_PATH: &str = AVAILABILITY_PATH;

/// How long a client may take to send its beat body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers `GET`/`HEAD /api/presence`: `{"available": true}`; 405 for other methods.
pub fn availability(request: &Request<Incoming>) -> Response<WasiBody> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return not_allowed(AVAILABLE_PATH, request.method(), "GET, HEAD");
    }
    let body = serde_json::to_vec(&Availability { available: true })
        .expect("a struct of one bool serializes");
    respond(StatusCode::OK, "application/json", body)
}

/// 405 naming the route, the method and what it accepts.
fn not_allowed(path: &str, method: &Method, allowed: &'static str) -> Response<WasiBody> {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{path} accepts {allowed} only, not {method}"),
    );
    response.headers_mut().insert(
        hyper::header::ALLOW,
        hyper::header::HeaderValue::from_static(allowed),
    );
    response
}

/// Answers `POST /api/beat`: 200 with the client's state, 400 for a malformed or out-of-range
/// body, 405 for other methods, 408 for a body that does not arrive in time, 413 for a body
/// over the limit, 503 when the presence table is full.
pub async fn answer(
    presence: &Presence,
    metrics: &Metrics,
    request: Request<Incoming>,
) -> Response<WasiBody> {
    if request.method() != Method::POST {
        return not_allowed(PATH, request.method(), "POST");
    }
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let report = match BeatReport::from_json(&body) {
        Ok(report) => report,
        Err(e @ BeatReportError::TooLarge { .. }) => {
            return error(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string());
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let key = presence.key(&report.client);
    let effect = match presence.beat(key, report.seq, report.bpm, presence.now_ms()) {
        Ok(effect) => effect,
        Err(e @ PresenceError::Full { .. }) => {
            let mut response = error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
            response.headers_mut().insert(
                hyper::header::RETRY_AFTER,
                hyper::header::HeaderValue::from_static("60"),
            );
            return response;
        }
    };
    metrics.heart_rate.inc();
    let body = match effect {
        BeatEffect::Accepted {
            to,
            late_ms,
            missed,
            ..
        } => {
            if let Some(late) = late_ms {
                metrics.beat_latency.observe(late as f64 / 1000.0);
            }
            serde_json::json!({ "state": to, "late_ms": late_ms, "missed": missed, "stale": false })
        }
        BeatEffect::Stale { state } => {
            serde_json::json!({ "state": state, "late_ms": null, "missed": 0, "stale": true })
        }
    };
    respond(StatusCode::OK, "application/json", body.to_string())
}

/// Reads the body up to [`MAX_BEAT_BODY_BYTES`] within [`BODY_TIMEOUT`]; the error is the
/// response to send (boxed: a response is large, the body a few bytes).
async fn read_body(request: Request<Incoming>) -> Result<bytes::Bytes, Box<Response<WasiBody>>> {
    if let Some(len) = declared_length(&request).filter(|n| *n > MAX_BEAT_BODY_BYTES as u64) {
        let e = BeatReportError::TooLarge {
            len: usize::try_from(len).unwrap_or(usize::MAX),
        };
        return Err(Box::new(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &e.to_string(),
        )));
    }
    let limited = Limited::new(request.into_body(), MAX_BEAT_BODY_BYTES);
    match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(Box::new(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("beat body is over the {MAX_BEAT_BODY_BYTES}-byte limit"),
        ))),
        Ok(Err(e)) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            &format!("could not read the beat body: {e}"),
        ))),
        Err(_) => Err(Box::new(error(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "the beat body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ),
        ))),
    }
}

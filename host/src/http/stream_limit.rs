//! The server's limit on open streams (`/live`): each holds an instance and a connection for
//! minutes, so at most [`ServerOptions::max_streams`](crate::http::ServerOptions) run
//! at once; one more is answered `503` with `Retry-After` (and counted as `refused`). A slot is
//! held for as long as the stream's body lives.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::WasiBody;

use crate::metrics::{Metrics, StreamEnd};
use crate::response::error;

/// Seconds a refused client is asked to wait.
pub const RETRY_AFTER_SECS: u32 = 10;

/// A free stream slot, if there is one.
pub(crate) fn admit(slots: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    slots.clone().try_acquire_owned().ok()
}

/// The answer to a stream beyond the `limit`, counted in `metrics` as `refused`.
pub(crate) fn refused(limit: usize, metrics: &Metrics) -> Response<WasiBody> {
    metrics
        .live_streams_ended
        .with_label_values(&[StreamEnd::Refused.label()])
        .inc();
    let message = format!("all {limit} live streams are in use; retry in {RETRY_AFTER_SECS} s");
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, &message);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// `response` with its body holding `slot` until the body is done or dropped.
pub(crate) fn hold(response: Response<WasiBody>, slot: OwnedSemaphorePermit) -> Response<WasiBody> {
    response.map(|body| {
        body.map_frame(move |frame| {
            let _held = &slot;
            frame
        })
        .boxed_unsync()
    })
}

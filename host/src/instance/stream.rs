//! Long responses (`/live`): a guest that streams its body keeps its instance for as long as it
//! makes progress, and no longer.
//!
//! - The per-request timeout becomes a **progress** timeout: a stream may run for minutes,
//!   but a guest that writes nothing for the request timeout is stopped — by the watchdog
//!   while it waits (it sleeps or blocks), and by the epoch deadline while it spins (each
//!   deadline renews only if the body moved since the last one).
//! - A client that hangs up drops the body: the instance is ended at once, not at the guest's
//!   next write.
//! - [`Closing`] is what the host tells streams at shutdown (guests read it as the
//!   `wasi:config` key [`heart_core::api::CLOSING_VARIABLE`] and end with a closing frame).
//! - Each stream is counted: open now, how it ended, how long it ran.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Response;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::Notify;
use wasmtime::UpdateDeadline;
use wasmtime_wasi_http::WasiBody;

use crate::metrics::{Metrics, StreamEnd};
use crate::runtime::engine::ticks;

/// Whether the host asks open streams to end (set once, when shutdown begins).
#[derive(Debug, Clone, Default)]
pub struct Closing(Arc<AtomicBool>);

impl Closing {
    /// Asks every open stream to end.
    pub fn close(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether streams are asked to end.
    pub fn is_closing(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// One open stream, shared by its body (which the client reads) and the task running its
/// guest; dropped by the last of them, which counts it.
#[derive(Debug)]
pub(crate) struct StreamState {
    started: Instant,
    /// Nanoseconds after `started` when the body last moved.
    last_progress: AtomicU64,
    /// Whether the response head went out (before it, the request's own timeout applies).
    responded: AtomicBool,
    end: OnceLock<StreamEnd>,
    /// Woken when the client drops the body (shared, so a watcher need not keep the stream).
    hung_up: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl StreamState {
    /// A stream starting now, counted as open.
    pub(crate) fn start(metrics: Arc<Metrics>) -> Arc<Self> {
        metrics.live_streams.inc();
        Arc::new(Self {
            started: Instant::now(),
            last_progress: AtomicU64::new(0),
            responded: AtomicBool::new(false),
            end: OnceLock::new(),
            hung_up: Arc::new(Notify::new()),
            metrics,
        })
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_progress.store(now, Ordering::Relaxed);
    }

    /// Time since the body last moved (or since the start).
    fn idle(&self) -> Duration {
        let last = Duration::from_nanos(self.last_progress.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// Records how the stream ended; the first end recorded stands.
    pub(crate) fn ended(&self, end: StreamEnd) {
        let _ = self.end.set(end);
    }

    /// Ends a stream whose request was answered with a failure instead: its guest's task stops
    /// at once, as if the client had hung up, and the stream counts as failed.
    pub(crate) fn abandon(&self) {
        self.ended(StreamEnd::Failed);
        self.hung_up.notify_one();
    }

    /// Resolves once the response head is out and the body has not moved for `limit` since.
    /// (Before the head, the request's own timeout answers, and [`Self::abandon`]s the stream.)
    pub(crate) async fn stalled(&self, limit: Duration) {
        loop {
            let idle = self.idle();
            let responded = self.responded.load(Ordering::Relaxed);
            if responded && idle >= limit {
                return;
            }
            let wait = if responded { limit - idle } else { limit };
            tokio::time::sleep(wait).await;
        }
    }

    /// Resolves once the client has dropped the body. It holds only the signal, not the
    /// stream, which ends (and is counted) when its body and its task are done.
    pub(crate) fn hung_up(&self) -> impl Future<Output = ()> + Send + Sync + 'static {
        let signal = self.hung_up.clone();
        async move { signal.notified().await }
    }

    /// How long the guest may still go without writing before it is stopped (zero: now).
    pub(crate) fn grace(&self, limit: Duration) -> Duration {
        limit.saturating_sub(self.idle())
    }
}

/// What a store's epoch deadline does when it passes: a stream (`stream`) whose body moved
/// within `limit` gets another `limit`; anything else is interrupted (a trap the caller reports
/// as a timeout). Every store has this as its epoch-deadline callback.
pub(crate) fn deadline_passed(stream: Option<&StreamState>, limit: Duration) -> UpdateDeadline {
    match stream {
        Some(stream) if stream.idle() < limit => UpdateDeadline::Continue(ticks(limit)),
        _ => UpdateDeadline::Interrupt,
    }
}

impl Drop for StreamState {
    fn drop(&mut self) {
        let end = self.end.get().copied().unwrap_or(StreamEnd::ClientGone);
        self.metrics.live_streams.dec();
        self.metrics
            .live_streams_ended
            .with_label_values(&[end.label()])
            .inc();
        self.metrics
            .live_stream_duration
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// A stream's body as the client reads it: each data frame is progress, its end is the
/// stream's end, and dropping it early means the client hung up.
pub(crate) struct ProgressBody {
    inner: WasiBody,
    state: Arc<StreamState>,
    done: bool,
}

impl ProgressBody {
    /// `response` with its body watched for `state`: the head is out, which counts as
    /// progress.
    pub(crate) fn watch(
        response: Response<WasiBody>,
        state: Arc<StreamState>,
    ) -> Response<WasiBody> {
        state.touch();
        state.responded.store(true, Ordering::Relaxed);
        response.map(|inner| {
            Self {
                inner,
                state,
                done: false,
            }
            .boxed_unsync()
        })
    }
}

impl Body for ProgressBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => self.state.touch(),
            Poll::Ready(Some(Err(_))) => {
                self.done = true;
                self.state.ended(StreamEnd::Failed);
            }
            Poll::Ready(None) => {
                self.done = true;
                self.state.ended(StreamEnd::Finished);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ProgressBody {
    fn drop(&mut self) {
        if !self.done {
            self.state.ended(StreamEnd::ClientGone);
            self.state.hung_up.notify_one();
        }
    }
}

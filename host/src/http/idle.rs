//! Connections that do nothing are closed. hyper's header-read timeout covers an HTTP/1 head
//! once its first byte is read, but not a connection that sends nothing, an HTTP/2 preface sent
//! a byte at a time (hyper-util decides the protocol before either protocol's timers run), or
//! an HTTP/2 connection left open with no stream. Here a connection is idle while no request of
//! it is being handled and the server has written nothing to it; after [`IDLE_TIMEOUT`] of
//! that it is closed. A request being handled, or a response body being written (a `/live`
//! stream's frames, a slow download as the client drains it), keeps it open.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};
use tokio::time::Instant;

use crate::http::shared::HEADER_READ_TIMEOUT;

/// How long a connection may sit idle: HTTP/1's header-read timeout, so every protocol and
/// every stage of a connection gets the same.
pub(crate) const IDLE_TIMEOUT: Duration = HEADER_READ_TIMEOUT;

/// What one connection is doing, shared by its I/O and its requests.
#[derive(Debug)]
pub(crate) struct Activity {
    origin: Instant,
    /// When it last did something, in nanoseconds after `origin`.
    last: AtomicU64,
    /// Requests being handled.
    busy: AtomicUsize,
    /// Whether any request started.
    served: AtomicBool,
}

impl Activity {
    /// A connection accepted now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            last: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            served: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last.store(nanos, Ordering::Relaxed);
    }

    /// A request starts; it counts as being handled until the guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.served.store(true, Ordering::Relaxed);
        self.touch();
        Busy(self.clone())
    }

    /// Whether a request ever started on it.
    pub(crate) fn served(&self) -> bool {
        self.served.load(Ordering::Relaxed)
    }

    /// How long it has been idle (zero while a request is handled).
    fn idle_for(&self) -> Duration {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_nanos(self.last.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }

    /// Resolves once the connection has been idle for `limit`.
    pub(crate) async fn idle(&self, limit: Duration) {
        loop {
            let idle = self.idle_for();
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle).await;
        }
    }
}

/// A request being handled.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's I/O, noting each write in its [`Activity`].
#[derive(Debug)]
pub(crate) struct Watched<I> {
    io: I,
    activity: Arc<Activity>,
}

impl<I> Watched<I> {
    pub(crate) fn new(io: I, activity: Arc<Activity>) -> Self {
        Self { io, activity }
    }

    /// `written`, noted as activity when it wrote something.
    fn noted(&self, written: Poll<std::io::Result<usize>>) -> Poll<std::io::Result<usize>> {
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        written
    }
}

impl<I: Read + Unpin> Read for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: Write + Unpin> Write for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        let written = Pin::new(&mut me.io).poll_write(cx, buf);
        me.noted(written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        let written = Pin::new(&mut me.io).poll_write_vectored(cx, bufs);
        me.noted(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_idle_only_with_no_request_and_no_write_for_the_limit() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let activity = Activity::new();
            let limit = Duration::from_millis(50);
            let busy = activity.begin();
            // A request being handled: never idle, however long it takes.
            let waited = tokio::time::timeout(limit * 4, activity.idle(limit)).await;
            assert!(waited.is_err(), "idle while a request was handled");
            drop(busy);
            assert!(activity.served());
            let started = Instant::now();
            activity.idle(limit).await;
            assert!(started.elapsed() >= limit, "{:?}", started.elapsed());
        });
    }
}

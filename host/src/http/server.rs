//! The HTTP server: hyper accept loop, connections (plain or TLS), and graceful shutdown that
//! lets in-flight requests finish. Each request goes to [`host_routes::handle`].
//! Pattern follows `wasmtime serve` (wasmtime-cli 48 `src/commands/serve.rs`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::config::watch;
use crate::http::host_routes;
use crate::ops::beat;
use crate::runtime::reclaim;

/// Server limits and transport.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Requests handled by guests at once; more wait for a slot. Keep it no larger than the
    /// instance pool.
    pub max_concurrent_requests: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Largest request body accepted (by `Content-Length`), in bytes.
    pub max_request_body: u64,
    /// Serve HTTPS with this config (see [`crate::http::tls`]); plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Serve the presence service (`GET /api/presence`, `POST /api/beat`). When off, those
    /// paths go to the component like any other, as under Spin.
    pub presence: bool,
    /// Streams (`/live`) open at once; more get `503` with `Retry-After`.
    pub max_streams: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 128,
            shutdown_grace: Duration::from_secs(10),
            max_request_body: 64 * 1024,
            tls: None,
            presence: true,
            max_streams: 32,
        }
    }
}

/// Largest request head (request line and headers), in bytes.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers a request may carry.
pub(crate) const MAX_HEADERS: usize = 100;

/// What every connection of one server shares.
pub(crate) struct Shared {
    pub(crate) app: Arc<App>,
    /// One per request a guest may handle at once.
    pub(crate) permits: Semaphore,
    /// One per open stream.
    pub(crate) streams: Arc<Semaphore>,
    pub(crate) options: ServerOptions,
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, waits up to the
/// grace period for open connections, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        app,
        permits: Semaphore::new(options.max_concurrent_requests.max(1)),
        streams: Arc::new(Semaphore::new(options.max_streams)),
        options,
    });
    // Background work that lives as long as the server: config hot reload, presence sweep and
    // giving idle memory back.
    let background = [
        tokio::spawn(watch::watch(shared.app.clone(), watch::POLL_INTERVAL)),
        tokio::spawn(beat::sweep(shared.app.clone(), beat::SWEEP_INTERVAL)),
        tokio::spawn(reclaim::watch(
            shared.app.clone(),
            reclaim::RECLAIM_INTERVAL,
        )),
    ];
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        spawn_connection(stream, peer, &shared, &graceful);
    }
    // Connections the kernel already accepted are in flight for their clients: serve them too.
    while let Ok(Ok((stream, peer))) = tokio::time::timeout(Duration::ZERO, listener.accept()).await
    {
        spawn_connection(stream, peer, &shared, &graceful);
    }
    drop(listener);
    for task in background {
        task.abort();
    }
    // Open streams end with their closing frame, within a frame interval.
    shared.app.close_streams();
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    // Freshly accepted connections get a moment to deliver their request before connections
    // with no request in progress are closed.
    tokio::time::sleep(SHUTDOWN_SETTLE).await;
    match tokio::time::timeout(shared.options.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => {
            tracing::warn!(grace = ?shared.options.shutdown_grace, "grace period over; closing")
        }
    }
    Ok(())
}

/// How long shutdown waits for just-accepted connections to send their request.
const SHUTDOWN_SETTLE: Duration = Duration::from_millis(200);

/// Serves one accepted connection in its own task (TLS first when configured), tracked by
/// `graceful` so shutdown can wait for it.
fn spawn_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    graceful: &GracefulShutdown,
) {
    let _ = stream.set_nodelay(true);
    let shared = shared.clone();
    let watcher = graceful.watcher();
    match shared.options.tls.clone() {
        None => {
            tokio::spawn(serve_connection(
                TokioIo::new(stream),
                shared,
                watcher,
                peer,
            ));
        }
        Some(config) => {
            tokio::spawn(async move {
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(TokioIo::new(tls), shared, watcher, peer).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    }
}

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves HTTP/1.1 on one accepted connection (plain or TLS) until it closes or shutdown asks
/// it to finish its in-flight request and close.
async fn serve_connection<I>(io: I, shared: Arc<Shared>, watcher: Watcher, peer: SocketAddr)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(host_routes::handle(&shared, request).await) }
    });
    let connection = http1::Builder::new()
        .keep_alive(true)
        // Request line plus headers must fit: bigger ones get 431 (or 414) from hyper.
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .serve_connection(io, service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed by this call (inside the
/// runtime), not when the future is first polled: a signal sent as soon as the server says it
/// listens must not meet the default action (death, exit status by signal) because the accept
/// loop had not polled this future yet.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).expect("installing a SIGTERM handler succeeds at start-up");
    let mut interrupt =
        signal(SignalKind::interrupt()).expect("installing a SIGINT handler succeeds at start-up");
    async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    }
}

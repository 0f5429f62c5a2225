//! The HTTP server: hyper accept loop, connections (plain or TLS) speaking HTTP/1.1 or HTTP/2
//! (ALPN `h2` over TLS; prior-knowledge h2c on a plain listener, told apart by the HTTP/2
//! preface), connections closed when [`idle`], and graceful shutdown that lets in-flight
//! requests finish. Each request goes
//! through [`compression`] to [`request::handle`].
//! Pattern follows `wasmtime serve` (wasmtime-cli 50 `src/commands/serve.rs`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::app::background::Background;
use crate::http::idle::{Activity, IDLE_TIMEOUT, Watched};
use crate::http::shared::{
    HEADER_READ_TIMEOUT, MAX_CONCURRENT_H2_STREAMS, MAX_HEAD_BYTES, MAX_HEADERS, ServerOptions,
    Shared,
};
use crate::http::{compression, refused, request};
use crate::metrics::Refusal;

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
    // The app's background loops live as long as the server.
    let background = Background::start(&shared.app);
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
    drop(background);
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

/// Serves HTTP/1.1 or HTTP/2 on one accepted connection (plain or TLS) until it closes or
/// shutdown asks it to finish its in-flight requests and close (HTTP/2: a GOAWAY).
async fn serve_connection<I>(io: I, shared: Arc<Shared>, watcher: Watcher, peer: SocketAddr)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let metrics = shared.app.metrics().clone();
    let activity = Activity::new();
    let io = Watched::new(io, activity.clone());
    let requests = activity.clone();
    let service = tower::service_fn(move |request| {
        let shared = shared.clone();
        let busy = requests.begin();
        async move {
            let response = request::handle(&shared, request).await;
            drop(busy);
            Ok::<_, Infallible>(response)
        }
    });
    let service = TowerToHyperService::new(tower::Layer::layer(&compression::layer(), service));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true)
        // Request line plus headers must fit: bigger ones get 431 (or 414) from hyper.
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        // The same head limit; a bigger header block resets the stream.
        .max_header_list_size(u32::try_from(MAX_HEAD_BYTES).unwrap_or(u32::MAX))
        .max_concurrent_streams(MAX_CONCURRENT_H2_STREAMS);
    let connection = builder.serve_connection(io, service);
    tokio::select! {
        ended = watcher.watch(connection) => {
            if let Err(e) = ended {
                if let Some(reason) = refused::reason(&*e) {
                    metrics.refused.with_label_values(&[reason.label()]).inc();
                }
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        // No request in progress and nothing written: closed (dropping the connection).
        () = activity.idle(IDLE_TIMEOUT) => {
            if !activity.served() {
                metrics
                    .refused
                    .with_label_values(&[Refusal::HeaderTimeout.label()])
                    .inc();
            }
            tracing::debug!(%peer, served = activity.served(), "idle connection closed");
        }
    }
}

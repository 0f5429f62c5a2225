//! The HTTP server: hyper accept loop, host routes (health, metrics), routing to components, bounded
//! concurrency, and graceful shutdown that lets in-flight requests finish.
//! Pattern follows `wasmtime serve` (wasmtime-cli 48 `src/commands/serve.rs`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::WasiBody;

use crate::app::App;
use crate::beat;
use crate::reclaim;
use crate::reload;
use crate::response::{declared_length, error, respond};

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
    /// Serve HTTPS with this config (see [`crate::tls`]); plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Serve the presence service (`GET /api/presence`, `POST /api/beat`). When off, those
    /// paths go to the component like any other, as under Spin.
    pub presence: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 128,
            shutdown_grace: Duration::from_secs(10),
            max_request_body: 64 * 1024,
            tls: None,
            presence: true,
        }
    }
}

/// Largest request head (request line and headers), in bytes.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers a request may carry.
pub const MAX_HEADERS: usize = 100;

struct Shared {
    app: Arc<App>,
    permits: Semaphore,
    options: ServerOptions,
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
        options,
    });
    // Background work that lives as long as the server: config hot reload, presence sweep and
    // giving idle memory back.
    let background = [
        tokio::spawn(reload::watch(shared.app.clone(), reload::POLL_INTERVAL)),
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
        async move { Ok::<_, Infallible>(handle(&shared, request).await) }
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
fn route_label<'a>(shared: &'a Shared, path: &str) -> &'a str {
    let presence_routes = [beat::PATH, beat::AVAILABLE_PATH];
    if let Some(own) = HOST_ROUTES.iter().find(|r| **r == path) {
        return own;
    }
    #[cfg(feature = "native-baseline")]
    if path.starts_with(crate::native::PREFIX) {
        return crate::native::PREFIX;
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
async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<WasiBody> {
    let started = std::time::Instant::now();
    let path = request.uri().path();
    let route = route_label(shared, path);
    // heart-core decides what a heart frame is; a frame served is a beat.
    let is_frame = heart_core::api::is_frame(path);
    let response = dispatch(shared, request).await;
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

async fn dispatch(shared: &Shared, request: Request<Incoming>) -> Response<WasiBody> {
    match request.uri().path() {
        "/healthz" => return respond(StatusCode::OK, "text/plain; charset=utf-8", "ok\n"),
        "/readyz" => return respond(StatusCode::OK, "text/plain; charset=utf-8", "ready\n"),
        "/.well-known/spin/health" => {
            return respond(StatusCode::OK, "text/plain; charset=utf-8", "OK");
        }
        "/metrics" => {
            let metrics = shared.app.metrics();
            metrics.record_presence(&shared.app.presence().counts());
            return respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.encode(),
            );
        }
        beat::PATH if shared.options.presence => {
            return beat::answer(&shared.app, request).await;
        }
        beat::AVAILABLE_PATH if shared.options.presence => return beat::availability(&request),
        #[cfg(feature = "native-baseline")]
        path if path.starts_with(crate::native::PREFIX) => {
            return crate::native::answer(&shared.app, &request);
        }
        _ => {}
    }
    let Some(component) = shared.app.route(request.uri().path()) else {
        return error(StatusCode::NOT_FOUND, "no component serves this path");
    };
    let declared_length = declared_length(&request);
    if declared_length.is_some_and(|n| n > shared.options.max_request_body) {
        let message = format!(
            "request body of {} bytes is over the {}-byte limit",
            declared_length.unwrap_or_default(),
            shared.options.max_request_body
        );
        return error(StatusCode::PAYLOAD_TOO_LARGE, &message);
    }
    let Ok(_permit) = shared.permits.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    };
    tracing::debug!(method = %request.method(), uri = %request.uri(), component = %component.id, "request");
    let request = request.map(|body| body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
    let failure = match component.handler.handle(request).await {
        Ok(response) => return response,
        Err(failure) => failure,
    };
    let kind = failure.kind;
    tracing::warn!(component = %component.id, kind = kind.label(), error = %format!("{:#}", failure.error), "guest failed");
    shared
        .app
        .metrics()
        .guest_failures
        .with_label_values(&[kind.label()])
        .inc();
    error(kind.status(), kind.message())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler succeeds at start-up");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

//! What the server is configured with, and what every connection of one server shares.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::app::App;
use crate::settings::Settings;

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
    /// The settings' defaults ([`crate::settings`]), plain HTTP, presence served.
    fn default() -> Self {
        Self::from_settings(&Settings::default())
    }
}

impl ServerOptions {
    /// The options `settings` give: plain HTTP, presence served (the caller adds TLS or leaves
    /// presence out).
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_concurrent_requests: settings.max_instances as usize,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_secs),
            max_request_body: 64 * 1024,
            tls: None,
            presence: true,
            max_streams: settings.max_streams,
        }
    }
}

/// Largest request head (request line and headers), in bytes.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long an HTTP/1 client has to send a whole request head, from the first read of it (a
/// slow client — slowloris — is cut off here: the connection is closed); an idle keep-alive
/// connection is closed after as long without a new request.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Most headers a request may carry.
pub(crate) const MAX_HEADERS: usize = 100;
/// Requests one HTTP/2 connection may have in flight at once (hyper's default is 200); the
/// server-wide limit on guests at work ([`ServerOptions::max_concurrent_requests`]) still
/// applies to them all.
pub(crate) const MAX_CONCURRENT_H2_STREAMS: u32 = 256;

/// What every connection of one server shares.
pub(crate) struct Shared {
    pub(crate) app: Arc<App>,
    /// One per request a guest may handle at once.
    pub(crate) permits: Semaphore,
    /// One per open stream.
    pub(crate) streams: Arc<Semaphore>,
    pub(crate) options: ServerOptions,
}

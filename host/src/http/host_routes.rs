//! The routes the host answers itself, never a component: health, metrics and, when served,
//! presence (and `/native/…` for benchmarks).

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use crate::http::shared::Shared;
use crate::presence::beat;
use crate::response::respond;

/// The routes the host answers itself (never a component), each its own `route` label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HostRoute {
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
    pub(crate) fn find(path: &str, presence: bool) -> Option<Self> {
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
    pub(crate) fn label(self) -> &'static str {
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

/// The answer of the host's own `route` to `request`.
pub(crate) async fn answer(
    shared: &Shared,
    route: HostRoute,
    request: Request<Incoming>,
) -> Response<WasiBody> {
    let text = "text/plain; charset=utf-8";
    match route {
        HostRoute::Healthz => respond(StatusCode::OK, text, "ok\n"),
        HostRoute::Readyz => respond(StatusCode::OK, text, "ready\n"),
        HostRoute::SpinHealth => respond(StatusCode::OK, text, "OK"),
        HostRoute::Metrics => {
            let metrics = shared.app.metrics();
            shared.app.record_presence();
            shared.app.record_pool();
            respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.encode(),
            )
        }
        HostRoute::Beat => beat::answer(shared.app.presence(), shared.app.metrics(), request).await,
        HostRoute::Presence => beat::availability(&request),
        #[cfg(feature = "native-baseline")]
        HostRoute::Native => crate::http::native::answer(&shared.app, &request),
    }
}

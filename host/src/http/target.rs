//! What a request is for, decided once from its path: a host route, the component whose
//! manifest route matched, or nothing.

use std::sync::Arc;

use crate::http::host_routes::HostRoute;
use crate::http::shared::Shared;
use crate::instance::Component;

/// A request's target.
pub(crate) enum Target<'a> {
    /// One of the host's own routes.
    Host(HostRoute),
    /// The component whose manifest route matched.
    Component {
        /// The component, as it serves now (a swap leaves this request on it).
        component: Arc<Component>,
        /// The manifest route as written (e.g. `/...`).
        route: &'a str,
        /// Whether the request is a stream (`/live`), which heart-core decides.
        streams: bool,
    },
    /// No host route and no manifest route.
    NotFound,
}

impl<'a> Target<'a> {
    /// The target of a request for `path`: a host route first (presence only when served), else
    /// the manifest route by Spin's precedence.
    pub(crate) fn resolve(shared: &'a Shared, path: &str) -> Self {
        if let Some(own) = HostRoute::find(path, shared.options.presence) {
            return Self::Host(own);
        }
        match shared.app.matched_route(path) {
            Some((route, component)) => Self::Component {
                component,
                route,
                streams: heart_core::api::streams(path),
            },
            None => Self::NotFound,
        }
    }

    /// The request's `route` label: a host route's own path, else the manifest route that
    /// matched (as Spin labels requests: `/...` for this app's one component), else `other`.
    /// The labels are bounded by the host's routes and the manifest's, whatever paths clients
    /// invent.
    pub(crate) fn label(&self) -> &'a str {
        match self {
            Self::Host(own) => own.label(),
            Self::Component { route, .. } => route,
            Self::NotFound => "other",
        }
    }
}

//! Which path a component's requests take: WASI 0.2 components are called in the request's own
//! task ([`DirectHandler`]); WASI 0.3 components, whose calls may run concurrently in one
//! instance, go through `wasmtime-wasi-http`'s `ProxyHandler` workers.

use std::time::{Duration, Instant};

use wasmtime_wasi_http::handler::{
    ExpirationError, InstantiationError, ProxyHandler, Request, Response,
};

use crate::direct::DirectHandler;
use crate::guest_failure::{FailureKind, GuestFailure};
use crate::handler::{ComponentHandler, InstancePolicy};

/// A component's request path.
pub enum Dispatcher {
    /// WASI 0.2: in the request's task, with an idle-instance pool.
    Direct(Box<DirectHandler>),
    /// WASI 0.3: through `ProxyHandler`'s worker tasks.
    Worker(ProxyHandler<ComponentHandler>),
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Direct(direct) => f.debug_tuple("Direct").field(direct).finish(),
            Self::Worker(worker) => f.debug_tuple("Worker").field(worker.state()).finish(),
        }
    }
}

impl Dispatcher {
    /// The path for `handler`'s WASI version.
    pub fn new(handler: ComponentHandler) -> Self {
        match handler.p2_pre().cloned() {
            Some(pre) => Self::Direct(Box::new(DirectHandler::new(handler, pre))),
            None => Self::Worker(ProxyHandler::new(handler)),
        }
    }

    /// The component's settings.
    pub fn state(&self) -> &ComponentHandler {
        match self {
            Self::Direct(direct) => direct.state(),
            Self::Worker(worker) => worker.state(),
        }
    }

    /// Answers `request`, or says why the component could not.
    pub async fn handle(&self, request: Request) -> Result<Response, GuestFailure> {
        match self {
            Self::Direct(direct) => direct.handle(request).await,
            Self::Worker(worker) => {
                let started = Instant::now();
                worker.handle((), request).await.map_err(|error| {
                    worker_failure(error, started.elapsed(), worker.state().policy())
                })
            }
        }
    }
}

/// A `ProxyHandler` failure's kind. A guest stopped by the epoch deadline surfaces there only
/// as "no response" (its trap ends the worker's task), so a failure that took the whole time
/// limit counts as a timeout (epochs tick every `EPOCH_TICK`, so the deadline can fire up to a
/// tick early).
fn worker_failure(error: wasmtime::Error, took: Duration, policy: InstancePolicy) -> GuestFailure {
    let out_of_time = took + 2 * crate::engine::EPOCH_TICK >= policy.request_timeout;
    let kind = if out_of_time || error.is::<ExpirationError>() {
        FailureKind::Timeout
    } else if error.is::<InstantiationError<()>>() {
        FailureKind::Instantiation
    } else {
        FailureKind::Trap
    };
    GuestFailure::new(kind, error)
}

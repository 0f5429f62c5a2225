//! WASI 0.2 components served in the request's own task: take an idle instance (or make a
//! fresh one), call `wasi:http/incoming-handler.handle` while reading the response body as the
//! guest writes it, and answer with the whole body (so it has a `Content-Length`).
//!
//! No worker task and no cross-thread hand-off per request (the `ProxyHandler` path costs two
//! tokio wake-ups per request); the guest's failure is known at the call, so an epoch-deadline
//! trap is reported as a timeout directly. An instance is reused, up to the policy's count and
//! idle time, only after a request it answered whole and left no resources behind, and only
//! while the component's variables are the ones it was made with; one that failed is dropped.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::sync::oneshot;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{Request, Response};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};

use crate::engine::ticks;
use crate::guest_failure::{FailureKind, GuestFailure};
use crate::handler::ComponentHandler;
use crate::live_variables::Snapshot;
use crate::response::whole_body;
use crate::state::HostState;

/// A WASI 0.2 component's instances: the component handler's settings, its WASI 0.2
/// pre-instance and the idle pool.
pub struct DirectHandler {
    component: ComponentHandler,
    pre: ProxyPre<HostState>,
    idle: Mutex<Vec<Live>>,
}

impl std::fmt::Debug for DirectHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectHandler")
            .field("component", &self.component)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// An instance and its store.
struct Live {
    store: Store<HostState>,
    proxy: Proxy,
    /// Requests it has answered.
    served: usize,
    /// When it last finished a request.
    idle_since: Instant,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("served", &self.served)
            .finish_non_exhaustive()
    }
}

/// The guest's response as it arrives through `response-outparam.set`.
type Outparam = Result<hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>, ErrorCode>;

impl DirectHandler {
    /// Serves `component` through `pre`, its `wasi:http/incoming-handler@0.2` pre-instance.
    pub fn new(component: ComponentHandler, pre: ProxyPre<HostState>) -> Self {
        Self {
            component,
            pre,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The component's settings.
    pub fn state(&self) -> &ComponentHandler {
        &self.component
    }

    /// Answers `request` with a fresh or reused instance.
    pub async fn handle(&self, request: Request) -> Result<Response, GuestFailure> {
        let policy = self.component.policy();
        let variables = self.component.variables().snapshot();
        let mut live = match self.take_idle(&variables) {
            Some(live) => live,
            None => self.instantiate().await?,
        };
        live.store.set_epoch_deadline(ticks(policy.request_timeout));
        let outcome = tokio::time::timeout(policy.request_timeout, exchange(&mut live, request))
            .await
            .unwrap_or_else(|_| {
                Err(GuestFailure::new(
                    FailureKind::Timeout,
                    wasmtime::format_err!("no response within {:?}", policy.request_timeout),
                ))
            });
        match outcome {
            Ok(response) => {
                live.served += 1;
                self.put_back(live);
                Ok(response)
            }
            Err(failure) => {
                self.retire(live);
                Err(failure)
            }
        }
    }

    async fn instantiate(&self) -> Result<Live, GuestFailure> {
        let mut store = self.component.new_store();
        let started = Instant::now();
        let proxy = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| GuestFailure::new(FailureKind::Instantiation, e))?;
        self.component.instantiated(started.elapsed());
        Ok(Live {
            store,
            proxy,
            served: 0,
            idle_since: Instant::now(),
        })
    }

    /// The most recently used idle instance made with `variables` (its memory is the likeliest
    /// to be warm), after dropping any idle past the policy's limit. Instances made with older
    /// variables are dropped too: a guest may read its variables once per instance (heart-http
    /// does), so a reload must reach requests through new instances.
    fn take_idle(&self, variables: &Snapshot) -> Option<Live> {
        if self.component.policy().max_reuse <= 1 {
            return None;
        }
        let stale = |live: &mut Live| !live.store.data().holds_variables(variables);
        let (live, expired) = {
            let mut idle = self.idle.lock().ok()?;
            let mut expired = self.drain_expired(&mut idle);
            if idle.last_mut().is_some_and(stale) {
                expired.extend(idle.extract_if(.., stale));
            }
            (idle.pop(), expired)
        };
        self.retire_all(expired);
        live
    }

    /// Keeps `live` for another request if it may serve more and left nothing behind.
    fn put_back(&self, mut live: Live) {
        let policy = self.component.policy();
        let clean = live.store.data_mut().http().table.is_empty();
        if live.served >= policy.max_reuse || !clean {
            self.retire(live);
            return;
        }
        live.idle_since = Instant::now();
        let expired = match self.idle.lock() {
            Ok(mut idle) => {
                let expired = self.drain_expired(&mut idle);
                idle.push(live);
                expired
            }
            Err(_) => vec![live],
        };
        self.retire_all(expired);
    }

    /// Removes the instances idle for longer than the policy allows (the oldest are first).
    fn drain_expired(&self, idle: &mut Vec<Live>) -> Vec<Live> {
        let limit = self.component.policy().idle_timeout;
        let fresh = idle.partition_point(|l| l.idle_since.elapsed() > limit);
        idle.drain(..fresh).collect()
    }

    fn retire_all(&self, lives: Vec<Live>) {
        for live in lives {
            self.retire(live);
        }
    }

    fn retire(&self, live: Live) {
        drop(live);
        self.component.retired();
    }
}

/// One request through `live`: the call and the reading of its response run together in this
/// task, since the guest's body writes wait for the reader once the body channel is full.
async fn exchange(live: &mut Live, request: Request) -> Result<Response, GuestFailure> {
    let (sender, receiver) = oneshot::channel::<Outparam>();
    let sender = Arc::new(Mutex::new(Some(sender)));
    let trap = GuestFailure::from_call;
    let mut view = live.store.data_mut().http();
    let incoming = view
        .new_incoming_request(Scheme::Http, request)
        .map_err(trap)?;
    let outparam = view
        .new_response_outparam_from_callback({
            let sender = sender.clone();
            move |response| {
                if let Some(sender) = sender.lock().ok().and_then(|mut s| s.take()) {
                    let _ = sender.send(response);
                }
            }
        })
        .map_err(trap)?;
    let mut call = pin!(async {
        let result = live
            .proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut live.store, incoming, outparam)
            .await;
        // The guest has returned: a response it did not set by now will never come.
        drop(sender.lock().ok().and_then(|mut s| s.take()));
        result.map_err(trap)
    });
    let mut response = pin!(read_response(receiver));
    tokio::select! {
        called = &mut call => {
            called?;
            response.await
        }
        read = &mut response => {
            // Complete, but the instance is reused only once its call has returned too.
            call.await?;
            read
        }
    }
}

/// The guest's response with its whole body.
async fn read_response(receiver: oneshot::Receiver<Outparam>) -> Result<Response, GuestFailure> {
    let failed = |e| GuestFailure::new(FailureKind::Trap, e);
    let response = receiver
        .await
        .map_err(|_| {
            failed(wasmtime::format_err!(
                "the guest returned without setting a response"
            ))
        })?
        .map_err(|code| {
            failed(wasmtime::format_err!(
                "the guest answered with an error: {code:?}"
            ))
        })?;
    let (parts, body) = response.into_parts();
    let body: Bytes = body
        .collect()
        .await
        .map_err(|e| {
            failed(wasmtime::format_err!(
                "reading the guest's response body: {e}"
            ))
        })?
        .to_bytes();
    Ok(Response::from_parts(parts, whole_body(body)))
}

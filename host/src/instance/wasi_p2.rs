//! The WASI 0.2 instance pool: components served in the request's own task. Take an idle
//! instance (or make a fresh one), call `wasi:http/incoming-handler.handle` while reading the response body as the
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
use wasmtime::component::Resource;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{Request, Response};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};

use crate::config::Snapshot;
use crate::instance::cpu_time::{CpuMeter, metered};
use crate::instance::factory::InstanceFactory;
use crate::instance::failure::GuestFailure;
use crate::instance::store::HostState;
use crate::instance::stream::{ProgressBody, StreamState};
use crate::instance::timing::Timing;
use crate::metrics::StreamEnd;
use crate::response::whole_body;
use crate::runtime::engine::ticks;

/// A WASI 0.2 component's instances: their factory, its WASI 0.2 pre-instance and the idle
/// pool.
pub struct DirectPool {
    factory: InstanceFactory,
    pre: ProxyPre<HostState>,
    idle: Mutex<Vec<Live>>,
}

impl std::fmt::Debug for DirectPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectPool")
            .field("factory", &self.factory)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// An instance and its store (which counts the requests it has started).
struct Live {
    store: Store<HostState>,
    proxy: Proxy,
    /// When it last finished a request.
    idle_since: Instant,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("requests", &self.store.data().requests())
            .finish_non_exhaustive()
    }
}

/// The guest's response as it arrives through `response-outparam.set`.
type Outparam = Result<hyper::Response<HyperOutgoingBody>, ErrorCode>;

impl DirectPool {
    /// Serves `factory`'s component through `pre`, its `wasi:http/incoming-handler@0.2`
    /// pre-instance.
    pub(crate) fn new(factory: InstanceFactory, pre: ProxyPre<HostState>) -> Self {
        Self {
            factory,
            pre,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The factory its instances come from.
    pub(crate) fn factory(&self) -> &InstanceFactory {
        &self.factory
    }

    /// Answers `request` with a fresh or reused instance; how the instance was got and the
    /// time in the guest go into `timing`.
    pub(crate) async fn handle(
        &self,
        request: Request,
        timing: &mut Timing,
    ) -> Result<Response, GuestFailure> {
        let policy = self.factory.policy();
        let variables = self.factory.variables();
        let mut live = match self.take_idle(&variables) {
            Some(live) => live,
            None => self.instantiate().await?,
        };
        timing.instance = live.store.data_mut().start_request();
        live.store.set_epoch_deadline(ticks(policy.request_timeout));
        let called = Instant::now();
        let cpu = CpuMeter::default();
        let outcome = metered(
            tokio::time::timeout(policy.request_timeout, exchange(&mut live, request)),
            &cpu,
        )
        .await
        .unwrap_or_else(|_| Err(GuestFailure::out_of_time(policy.request_timeout)));
        timing.guest = called.elapsed();
        live.store.data_mut().add_guest_cpu(cpu.spent());
        timing.host_calls = self
            .factory
            .counts_host_calls()
            .then(|| live.store.data().host_calls());
        // A failed instance is not kept: dropping it here uncounts it.
        if outcome.is_ok() {
            self.put_back(live);
        }
        outcome
    }

    /// Answers `request` with a stream (`/live`): a fresh instance, kept for the stream's
    /// life, which its own task runs while the client reads the body. The head must come
    /// within the request timeout; after it, the guest runs for as long as its body moves
    /// ([`super::stream`]), and the instance ends with the stream (it is never reused).
    pub(crate) async fn stream(
        &self,
        component: &str,
        request: Request,
        timing: &mut Timing,
    ) -> Result<Response, GuestFailure> {
        let limit = self.factory.policy().request_timeout;
        let mut live = self.instantiate().await?;
        timing.instance = live.store.data_mut().start_request();
        let state = StreamState::start(self.factory.metrics().clone());
        live.store.data_mut().set_stream(Some(&state));
        live.store.set_epoch_deadline(ticks(limit));
        let Prepared { call, receiver } = match prepare(&mut live, request) {
            Ok(prepared) => prepared,
            Err(failure) => {
                state.ended(StreamEnd::Failed);
                return Err(failure);
            }
        };
        let called = Instant::now();
        let metrics = self.factory.metrics().clone();
        let task_state = state.clone();
        let component = component.to_owned();
        tokio::spawn(async move {
            let cpu = CpuMeter::default();
            let end = tokio::select! {
                called = metered(call.run(&mut live), &cpu) => called.err(),
                () = task_state.stalled(limit) => Some(GuestFailure::out_of_time(limit)),
                () = task_state.hung_up() => None,
            };
            live.store.data_mut().add_guest_cpu(cpu.spent());
            if let Some(failure) = end {
                task_state.ended(if failure.is_timeout() {
                    StreamEnd::Stalled
                } else {
                    StreamEnd::Failed
                });
                failure.log_and_count(&component, &metrics);
            }
            // Dropping the instance uncounts it (its store's `LiveInstance`).
            drop(live);
        });
        let head = tokio::time::timeout(limit, head(receiver))
            .await
            .unwrap_or_else(|_| Err(GuestFailure::out_of_time(limit)));
        timing.guest = called.elapsed();
        match head {
            Ok(response) => Ok(ProgressBody::watch(
                response.map(BodyExt::boxed_unsync),
                state,
            )),
            Err(failure) => {
                // Answered with this failure (and counted once, by the caller): the guest's
                // task ends now, quietly.
                state.abandon();
                Err(failure)
            }
        }
    }

    async fn instantiate(&self) -> Result<Live, GuestFailure> {
        let mut store = self.factory.new_store();
        let started = Instant::now();
        let proxy = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(GuestFailure::instantiation)?;
        self.factory
            .instantiated(store.data_mut(), started.elapsed());
        Ok(Live {
            store,
            proxy,
            idle_since: Instant::now(),
        })
    }

    /// The most recently used idle instance made with `variables` (its memory is the likeliest
    /// to be warm), after dropping any idle past the policy's limit. Instances made with older
    /// variables are dropped too: a guest may read its variables once per instance (heart-http
    /// does), so a reload must reach requests through new instances.
    fn take_idle(&self, variables: &Snapshot) -> Option<Live> {
        if self.factory.policy().max_reuse <= 1 {
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
        drop(expired);
        live
    }

    /// Keeps `live` for another request if it may serve more and left nothing behind.
    fn put_back(&self, mut live: Live) {
        let policy = self.factory.policy();
        let clean = live.store.data_mut().http().table.is_empty();
        if live.store.data().requests() >= policy.max_reuse || !clean {
            // Spent: dropping it uncounts it.
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
        drop(expired);
    }

    /// Removes the instances idle for longer than the policy allows (the oldest are first).
    fn drain_expired(&self, idle: &mut Vec<Live>) -> Vec<Live> {
        let limit = self.factory.policy().idle_timeout;
        let fresh = idle.partition_point(|l| l.idle_since.elapsed() > limit);
        idle.drain(..fresh).collect()
    }
}

/// Where the guest's response goes: taken by the outparam's callback, or dropped once the
/// call returned without setting it.
type Sender = Arc<Mutex<Option<oneshot::Sender<Outparam>>>>;

/// `request` and its response outparam in `live`'s store, where the response will come, and
/// the sender that brings it.
struct Prepared {
    call: Call,
    receiver: oneshot::Receiver<Outparam>,
}

/// A prepared call into the guest's handler.
struct Call {
    incoming: Resource<HostIncomingRequest>,
    outparam: Resource<HostResponseOutparam>,
    sender: Sender,
}

impl Call {
    /// Calls `wasi:http/incoming-handler.handle` in `live`.
    async fn run(self, live: &mut Live) -> Result<(), GuestFailure> {
        let result = live
            .proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut live.store, self.incoming, self.outparam)
            .await;
        // The guest has returned: a response it did not set by now will never come.
        drop(take(&self.sender));
        result.map_err(GuestFailure::from_call)
    }
}

fn prepare(live: &mut Live, request: Request) -> Result<Prepared, GuestFailure> {
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
                if let Some(sender) = take(&sender) {
                    let _ = sender.send(response);
                }
            }
        })
        .map_err(trap)?;
    Ok(Prepared {
        call: Call {
            incoming,
            outparam,
            sender,
        },
        receiver,
    })
}

fn take(sender: &Sender) -> Option<oneshot::Sender<Outparam>> {
    sender.lock().ok().and_then(|mut s| s.take())
}

/// One request through `live`: the call and the reading of its response run together in this
/// task, since the guest's body writes wait for the reader once the body channel is full.
async fn exchange(live: &mut Live, request: Request) -> Result<Response, GuestFailure> {
    let Prepared { call, receiver } = prepare(live, request)?;
    let mut call = pin!(call.run(live));
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

/// The guest's response head and body, as it set them.
async fn head(
    receiver: oneshot::Receiver<Outparam>,
) -> Result<hyper::Response<HyperOutgoingBody>, GuestFailure> {
    receiver
        .await
        .map_err(|_| GuestFailure::no_response("the guest returned without setting a response"))?
        .map_err(|code| {
            GuestFailure::no_response(format!("the guest answered with an error: {code:?}"))
        })
}

/// The guest's response with its whole body.
async fn read_response(receiver: oneshot::Receiver<Outparam>) -> Result<Response, GuestFailure> {
    let (parts, body) = head(receiver).await?.into_parts();
    let body: Bytes = body
        .collect()
        .await
        .map_err(|e| GuestFailure::no_response(format!("reading the guest's response body: {e}")))?
        .to_bytes();
    Ok(Response::from_parts(parts, whole_body(body)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use http_body_util::{BodyExt, Empty};

    use super::DirectPool;
    use crate::app::{App, AppOptions};
    use crate::config::dir::ConfigDirValues;
    use crate::instance::Component;
    use crate::instance::InstancePolicy;
    use crate::instance::failure::FailureKind;
    use crate::instance::timing::{InstanceUse, Timing};
    use crate::runtime::engine::EngineOptions;

    /// A one-component app and its component.
    struct Fixture {
        app: App,
        component: Arc<Component>,
    }

    impl std::ops::Deref for Fixture {
        type Target = App;

        fn deref(&self) -> &App {
            &self.app
        }
    }

    /// The built component `wasm` from `dist/` as a one-component app under `policy`.
    fn app(wasm: &str, policy: InstancePolicy) -> Fixture {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../dist")
            .join(wasm);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask build`)", path.display()));
        let options = AppOptions {
            manifest: PathBuf::new(),
            cache_dir: None,
            engine: EngineOptions::default(),
            config_dir: None,
            policy,
            watch: false,
        };
        let app = App::single_component("pool-test", &bytes, BTreeMap::new(), &options, |_| None)
            .expect("the app loads");
        let component = app.component(0).expect("one component");
        Fixture { app, component }
    }

    fn reuse(max_reuse: usize) -> InstancePolicy {
        InstancePolicy {
            max_reuse,
            ..InstancePolicy::default()
        }
    }

    fn pool(app: &Fixture) -> &DirectPool {
        app.component.direct_pool().expect("a WASI 0.2 component")
    }

    /// `GET path` through the pool: the status, or the failure's kind.
    async fn get(pool: &DirectPool, path: &str) -> Result<u16, FailureKind> {
        let request = hyper::Request::builder()
            .uri(format!("http://localhost{path}"))
            .body(Empty::new().map_err(|e| match e {}).boxed_unsync())
            .expect("a request");
        match pool.handle(request, &mut Timing::default()).await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(failure) => Err(failure.kind),
        }
    }

    fn idle(pool: &DirectPool) -> usize {
        pool.idle.lock().map(|idle| idle.len()).unwrap_or_default()
    }

    fn made(app: &App) -> u64 {
        app.metrics().instantiation.get_sample_count()
    }

    fn live(app: &App) -> i64 {
        app.metrics().active_instances.get()
    }

    #[tokio::test]
    async fn a_fresh_instance_policy_keeps_nothing() {
        let app = app("heart_http.wasm", reuse(1));
        for n in 1..=3 {
            assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
            assert_eq!((made(&app), idle(pool(&app)), live(&app)), (n, 0, 0));
        }
    }

    #[tokio::test]
    async fn an_instance_answers_up_to_the_reuse_count_then_is_dropped() {
        let app = app("heart_http.wasm", reuse(3));
        let mut seen = Vec::new();
        for _ in 0..7 {
            assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
            seen.push((made(&app), idle(pool(&app))));
        }
        // Instance 1 answers requests 1–3 (kept idle after 1 and 2, dropped after 3), and so on.
        let expected = [(1, 1), (1, 1), (1, 0), (2, 1), (2, 1), (2, 0), (3, 1)];
        assert_eq!(seen, expected);
        assert_eq!(live(&app), 1, "only the idle instance is alive");
    }

    #[tokio::test]
    async fn a_new_config_generation_retires_idle_instances_made_before_it() {
        let app = app("heart_http.wasm", reuse(100));
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(made(&app), 1, "reused under one generation");
        let values = ConfigDirValues(BTreeMap::from([("bpm".to_owned(), "90".to_owned())]));
        app.apply_config_dir(&values).expect("a valid bpm");
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(
            made(&app),
            2,
            "the instance made before the change is not reused"
        );
        assert_eq!((idle(pool(&app)), live(&app)), (1, 1), "and it was dropped");
    }

    #[tokio::test]
    async fn an_instance_idle_past_the_limit_is_dropped_before_the_next_request() {
        let idle_timeout = Duration::from_millis(200);
        let app = app(
            "heart_http.wasm",
            InstancePolicy {
                idle_timeout,
                ..reuse(100)
            },
        );
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(
            made(&app),
            1,
            "the second request reused the first instance"
        );
        // Idleness is measured in time: let the instance idle past its limit.
        tokio::time::sleep(idle_timeout * 2).await;
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(
            made(&app),
            2,
            "the idle instance expired; a fresh one answered"
        );
        assert_eq!(get(pool(&app), "/api/symbol").await, Ok(200));
        assert_eq!(made(&app), 2, "and that one is reused in turn");
        assert_eq!(live(&app), 1, "the expired one is gone");
    }

    #[tokio::test]
    async fn the_timing_says_whether_the_instance_was_made_for_the_request() {
        let app = app("heart_http.wasm", reuse(2));
        let mut use_of = Vec::new();
        for _ in 0..3 {
            let request = hyper::Request::builder()
                .uri("http://localhost/api/symbol")
                .body(Empty::new().map_err(|e| match e {}).boxed_unsync())
                .expect("a request");
            let mut timing = Timing::default();
            let response = pool(&app).handle(request, &mut timing).await;
            assert_eq!(
                response.map(|r| r.status()).ok(),
                Some(hyper::StatusCode::OK)
            );
            assert!(timing.guest > Duration::ZERO, "the guest ran");
            use_of.push(match timing.instance {
                InstanceUse::Fresh { instantiate } if instantiate > Duration::ZERO => "fresh",
                InstanceUse::Reused => "reused",
                other => panic!("{other:?}"),
            });
        }
        assert_eq!(use_of, ["fresh", "reused", "fresh"]);
    }

    #[tokio::test]
    async fn an_instance_whose_request_failed_is_dropped() {
        let app = app(
            "heart_faults.wasm",
            InstancePolicy {
                request_timeout: Duration::from_millis(300),
                ..reuse(100)
            },
        );
        assert_eq!(get(pool(&app), "/ok").await, Ok(200));
        assert_eq!(get(pool(&app), "/trap").await, Err(FailureKind::Trap));
        assert_eq!(
            (idle(pool(&app)), live(&app)),
            (0, 0),
            "the trapped one is gone"
        );
        assert_eq!(get(pool(&app), "/loop").await, Err(FailureKind::Timeout));
        assert_eq!(
            (idle(pool(&app)), live(&app)),
            (0, 0),
            "the stopped one is gone"
        );
        assert_eq!(get(pool(&app), "/ok").await, Ok(200));
        assert_eq!(made(&app), 3, "each failure cost its instance");
    }
}

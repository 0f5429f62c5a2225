//! WASI 0.3 components, whose calls may run concurrently in one instance, are served through
//! `wasmtime-wasi-http`'s `ProxyHandler` worker tasks: this is the state it drives — how an
//! instance is made, when it takes another request, and when it expires.
//! Pattern follows `wasmtime serve` (wasmtime-cli 50 `src/commands/serve.rs`).

use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::Response;
use wasmtime::component::TaskGroupId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, Request, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use crate::config::ComponentConfig;
use crate::instance::factory::InstanceFactory;
use crate::instance::failure::GuestFailure;
use crate::instance::policy::InstancePolicy;
use crate::instance::store::HostState;
use crate::instance::stream::{ProgressBody, StreamState};
use crate::instance::timing::{InstanceUse, Timing};
use crate::metrics::StreamEnd;
use crate::runtime::engine::ticks;

impl HandlerState for InstanceFactory {
    type StoreData = HostState;
    type WorkerExpiration = Expiration;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<HostState, Expiration, Worker>> {
        let mut store = self.new_store();
        let started = Instant::now();
        let proxy = self.pre().instantiate_async(&mut store).await?;
        self.instantiated(store.data_mut(), started.elapsed());
        let policy = self.policy();
        let stream = Arc::new(Mutex::new(Weak::new()));
        Ok(Instance {
            store,
            proxy,
            view: <HostState as WasiHttpView>::http,
            expiration: Expiration {
                idle_timeout: policy.idle_timeout,
                request_timeout: policy.request_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
                stream: stream.clone(),
                hang_up: None,
            },
            state: Worker {
                policy,
                config: self.config().clone(),
                stream,
            },
        })
    }
}

/// Answers `request` on one of the component's workers, with what it cost in `timing`; a
/// stream's body (`streams`) is watched by its progress.
pub(crate) async fn handle(
    handler: &ProxyHandler<InstanceFactory>,
    request: Request,
    streams: bool,
    timing: &mut Timing,
) -> Result<Response<WasiBody>, GuestFailure> {
    let factory = handler.state();
    let started = Instant::now();
    let timeout = factory.policy().request_timeout;
    let stream = streams.then(|| StreamState::start(factory.metrics().clone()));
    let slot = Arc::new(RequestSlot {
        instance: OnceLock::new(),
        stream: stream.clone(),
    });
    let outcome = handler.handle(slot.clone(), request).await;
    timing.guest = started.elapsed();
    timing.instance = slot.instance.get().copied().unwrap_or_default();
    let outcome = match (outcome, stream) {
        (Ok(response), Some(stream)) => Ok(ProgressBody::watch(response, stream)),
        (Err(error), Some(stream)) => {
            stream.ended(StreamEnd::Failed);
            Err(error)
        }
        (outcome, None) => outcome,
    };
    // The instantiation is not guest time.
    if let InstanceUse::Fresh { instantiate } = timing.instance {
        timing.guest = timing.guest.saturating_sub(instantiate);
    }
    outcome.map_err(|error| GuestFailure::from_worker(error, started.elapsed(), timeout))
}

/// The stream an instance is writing, if its request is one: shared by its [`Worker`], which
/// sets it, and its [`Expiration`], which times it by progress.
type CurrentStream = Arc<Mutex<Weak<StreamState>>>;

/// Resolves when a stream's client hangs up.
type HangUp = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// Ends an instance that idles or runs too long (the second line of defence behind the epoch
/// deadline, as `wasmtime serve` does); one writing a stream runs while the stream moves.
pub struct Expiration {
    idle_timeout: Duration,
    request_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    stream: CurrentStream,
    /// Resolves when the client of the current stream hangs up: the instance then ends at
    /// once instead of at the guest's next write.
    hang_up: Option<(Weak<StreamState>, HangUp)>,
}

impl std::fmt::Debug for Expiration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expiration")
            .field("idle_timeout", &self.idle_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl WorkerExpiration for Expiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let me = self.get_mut();
        let stream = me.stream.lock().ok().and_then(|s| s.upgrade());
        // Kept after its stream is gone: a hang-up drops the stream before this sees it.
        if let Some(stream) = &stream {
            let current = Arc::downgrade(stream);
            if !me
                .hang_up
                .as_ref()
                .is_some_and(|(of, _)| of.ptr_eq(&current))
            {
                me.hang_up = Some((current, Box::pin(stream.hung_up())));
            }
        }
        if let Some((_, gone)) = &mut me.hang_up
            && gone.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(());
        }
        let deadline = match (status, stream) {
            (WorkerStatus::Idle, _) => start.checked_add(me.idle_timeout),
            // A stream's deadline moves with its progress.
            (_, Some(stream)) => Instant::now().checked_add(stream.grace(me.request_timeout)),
            _ => start.checked_add(me.request_timeout),
        };
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if me.sleep.deadline() != deadline {
            me.sleep.as_mut().reset(deadline);
        }
        me.sleep.as_mut().poll(cx)
    }
}

/// One instance's request bookkeeping.
#[derive(Debug)]
pub struct Worker {
    policy: InstancePolicy,
    config: ComponentConfig,
    stream: CurrentStream,
}

/// What a request tells its worker, and learns back.
#[derive(Debug, Default)]
pub struct RequestSlot {
    /// How the request got its instance (set by the worker).
    pub instance: OnceLock<InstanceUse>,
    /// The stream, when the request is for one.
    pub stream: Option<Arc<StreamState>>,
}

impl WorkerState for Worker {
    type StoreData = HostState;
    /// Where the request learns how it got its instance, and its stream if it is one.
    type RequestData = Arc<RequestSlot>;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.policy.max_reuse {
            ShouldAccept::Never
        } else if concurrent >= self.policy.max_concurrent_reuse {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<'_, HostState>,
        data: Self::RequestData,
        _task_group: TaskGroupId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        let _ = data.instance.set(store.data_mut().start_request());
        // A stream, or none: a reused instance forgets the stream it wrote before.
        store.data_mut().set_stream(data.stream.as_ref());
        if let Ok(mut current) = self.stream.lock() {
            *current = data.stream.as_ref().map_or_else(Weak::new, Arc::downgrade);
        }
        // A reused instance sees the variables as of this request, and a fresh time budget.
        store.data_mut().set_variables(self.config.snapshot());
        store.set_epoch_deadline(ticks(self.policy.request_timeout));
        Box::pin(tokio::time::sleep(self.policy.request_timeout))
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(e) = result {
            tracing::warn!(error = %format!("{e:#}"), "guest instance failed");
        }
        drop(store);
    }
}

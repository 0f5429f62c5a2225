//! A component's instances: one fresh store per instance with memory and time limits, the
//! reuse policy, and (for WASI 0.3 components) `wasmtime-wasi-http`'s `ProxyHandler` worker
//! state. WASI 0.2 components are served by [`crate::direct`] from the same settings.
//! Pattern follows `wasmtime serve` (wasmtime-cli 48 `src/commands/serve.rs`).

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::component::TaskGroupId;
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};

use crate::engine::ticks;
use crate::live_variables::LiveVariables;
use crate::metrics::Metrics;
use crate::state::HostState;

/// Which WASI HTTP world a component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasiHttpVersion {
    /// `wasi:http/incoming-handler@0.2.x`.
    P2,
    /// `wasi:http/handler@0.3.x`.
    P3,
}

/// Per-instance limits and reuse policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstancePolicy {
    /// Largest linear memory, in bytes.
    pub memory_limit: usize,
    /// Longest a request may run in the guest.
    pub request_timeout: Duration,
    /// Requests one instance serves before it is dropped (1 = fresh instance per request).
    pub max_reuse: usize,
    /// Requests one instance serves at the same time (WASI 0.3 only; 0.2 is always 1).
    pub max_concurrent_reuse: usize,
    /// How long an idle reusable instance is kept.
    pub idle_timeout: Duration,
}

impl Default for InstancePolicy {
    fn default() -> Self {
        Self {
            memory_limit: 64 << 20,
            request_timeout: Duration::from_secs(10),
            max_reuse: 1,
            max_concurrent_reuse: 1,
            idle_timeout: Duration::from_secs(5),
        }
    }
}

/// Everything needed to make instances of one component.
pub struct ComponentHandler {
    engine: Engine,
    pre: ProxyPre<HostState>,
    version: WasiHttpVersion,
    variables: Arc<LiveVariables>,
    environment: BTreeMap<String, String>,
    policy: InstancePolicy,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for ComponentHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentHandler")
            .field("version", &self.version)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ComponentHandler {
    /// A handler for the pre-instantiated component `pre`.
    pub fn new(
        engine: Engine,
        pre: ProxyPre<HostState>,
        variables: Arc<LiveVariables>,
        environment: BTreeMap<String, String>,
        policy: InstancePolicy,
        metrics: Arc<Metrics>,
    ) -> Self {
        let version = match pre {
            ProxyPre::P2(_) => WasiHttpVersion::P2,
            ProxyPre::P3(_) => WasiHttpVersion::P3,
        };
        let policy = InstancePolicy {
            max_reuse: policy.max_reuse.max(1),
            max_concurrent_reuse: match version {
                WasiHttpVersion::P2 => 1,
                WasiHttpVersion::P3 => policy.max_concurrent_reuse.max(1),
            },
            ..policy
        };
        Self {
            engine,
            pre,
            version,
            variables,
            environment,
            policy,
            metrics,
        }
    }

    /// The WASI HTTP version the component exports.
    pub fn version(&self) -> WasiHttpVersion {
        self.version
    }

    /// The component's live variables.
    pub fn variables(&self) -> &Arc<LiveVariables> {
        &self.variables
    }

    /// The limits its instances run under.
    pub fn policy(&self) -> InstancePolicy {
        self.policy
    }

    /// The WASI 0.2 pre-instance, when the component exports `incoming-handler@0.2`.
    pub fn p2_pre(&self) -> Option<&wasmtime_wasi_http::p2::bindings::ProxyPre<HostState>> {
        match &self.pre {
            ProxyPre::P2(pre) => Some(pre),
            ProxyPre::P3(_) => None,
        }
    }

    /// A store for a new instance: the current variables, memory limit and time limit.
    pub fn new_store(&self) -> Store<HostState> {
        let state = HostState::new(
            self.variables.snapshot(),
            &self.environment,
            self.policy.memory_limit,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state.limits());
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks(self.policy.request_timeout));
        store
    }

    /// Records an instance made in `took`.
    pub fn instantiated(&self, took: Duration) {
        self.metrics.instantiation.observe(took.as_secs_f64());
        self.metrics.active_instances.inc();
    }

    /// Records an instance dropped.
    pub fn retired(&self) {
        self.metrics.active_instances.dec();
    }
}

impl HandlerState for ComponentHandler {
    type StoreData = HostState;
    type WorkerExpiration = Expiration;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<HostState, Expiration, Worker>> {
        let mut store = self.new_store();
        let started = Instant::now();
        let proxy = self.pre.instantiate_async(&mut store).await?;
        self.instantiated(started.elapsed());
        Ok(Instance {
            store,
            proxy,
            view: <HostState as WasiHttpView>::http,
            expiration: Expiration {
                idle_timeout: self.policy.idle_timeout,
                request_timeout: self.policy.request_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: Worker {
                policy: self.policy,
                variables: self.variables.clone(),
                metrics: self.metrics.clone(),
            },
        })
    }
}

/// Ends an instance that idles or runs too long (the second line of defence behind the epoch
/// deadline, as `wasmtime serve` does).
#[derive(Debug)]
pub struct Expiration {
    idle_timeout: Duration,
    request_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let me = self.get_mut();
        let timeout = match status {
            WorkerStatus::Idle => me.idle_timeout,
            WorkerStatus::Requests | WorkerStatus::PostReturn => me.request_timeout,
        };
        let Some(deadline) = start.checked_add(timeout) else {
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
    variables: Arc<LiveVariables>,
    metrics: Arc<Metrics>,
}

impl WorkerState for Worker {
    type StoreData = HostState;
    type RequestData = ();

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
        _data: (),
        _task_group: TaskGroupId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        // A reused instance sees the variables as of this request, and a fresh time budget.
        store.data_mut().set_variables(self.variables.snapshot());
        store.set_epoch_deadline(ticks(self.policy.request_timeout));
        Box::pin(tokio::time::sleep(self.policy.request_timeout))
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        self.metrics.active_instances.dec();
        if let Err(e) = result {
            tracing::warn!(error = %format!("{e:#}"), "guest instance failed");
        }
        drop(store);
    }
}

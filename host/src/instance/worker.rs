//! WASI 0.3 components, whose calls may run concurrently in one instance, are served through
//! `wasmtime-wasi-http`'s `ProxyHandler` worker tasks: this is the state it drives — how an
//! instance is made, when it takes another request, and when it expires.
//! Pattern follows `wasmtime serve` (wasmtime-cli 48 `src/commands/serve.rs`).

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::component::TaskGroupId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};

use crate::config::ComponentConfig;
use crate::instance::factory::InstanceFactory;
use crate::instance::policy::InstancePolicy;
use crate::instance::store::HostState;
use crate::instance::timing::InstanceUse;
use crate::ops::metrics::Metrics;
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
        Ok(Instance {
            store,
            proxy,
            view: <HostState as WasiHttpView>::http,
            expiration: Expiration {
                idle_timeout: policy.idle_timeout,
                request_timeout: policy.request_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: Worker {
                policy,
                config: self.config().clone(),
                metrics: self.metrics().clone(),
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
    config: ComponentConfig,
    metrics: Arc<Metrics>,
}

impl WorkerState for Worker {
    type StoreData = HostState;
    /// Where the request learns how it got its instance.
    type RequestData = Arc<OnceLock<InstanceUse>>;

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
        let _ = data.set(store.data_mut().start_request());
        // A reused instance sees the variables as of this request, and a fresh time budget.
        store.data_mut().set_variables(self.config.snapshot());
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

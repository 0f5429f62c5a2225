//! Everything needed to make instances of one component: its pre-instance, policy, live
//! config, WASI environment and metrics. It makes each instance's store (the variables as of
//! now, the memory limiter, the epoch deadline) and counts instances made and dropped. The
//! WASI 0.2 [`pool`](super::pool) and the WASI 0.3 [`worker`](super::worker) both make their
//! instances here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{CallHook, Engine, Store};
use wasmtime_wasi_http::handler::ProxyPre;

use crate::config::{ComponentConfig, Snapshot};
use crate::instance::policy::{InstancePolicy, WasiHttpVersion};
use crate::instance::store::{HostState, LiveInstance};
use crate::instance::stream::{self, Closing};
use crate::metrics::Metrics;
use crate::runtime::engine::{COUNT_HOST_CALLS_ENV, ticks};

/// Makes instances of one component.
pub struct InstanceFactory {
    engine: Engine,
    pre: ProxyPre<HostState>,
    version: WasiHttpVersion,
    config: ComponentConfig,
    environment: BTreeMap<String, String>,
    policy: InstancePolicy,
    metrics: Arc<Metrics>,
    closing: Closing,
    /// Whether stores count the guest's host calls ([`COUNT_HOST_CALLS_ENV`]).
    count_host_calls: bool,
}

impl std::fmt::Debug for InstanceFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceFactory")
            .field("version", &self.version)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl InstanceFactory {
    /// A factory for the pre-instantiated component `pre`, with `policy` adjusted to what its
    /// WASI version allows ([`InstancePolicy::for_version`]).
    pub(crate) fn new(
        engine: Engine,
        pre: ProxyPre<HostState>,
        config: ComponentConfig,
        environment: BTreeMap<String, String>,
        policy: InstancePolicy,
        metrics: Arc<Metrics>,
        closing: Closing,
    ) -> Self {
        let version = match pre {
            ProxyPre::P2(_) => WasiHttpVersion::P2,
            ProxyPre::P3(_) => WasiHttpVersion::P3,
        };
        Self {
            engine,
            pre,
            version,
            config,
            environment,
            policy: policy.for_version(version),
            metrics,
            closing,
            count_host_calls: std::env::var_os(COUNT_HOST_CALLS_ENV).is_some(),
        }
    }

    /// Whether its stores count the guest's calls into the host.
    pub(crate) fn counts_host_calls(&self) -> bool {
        self.count_host_calls
    }

    /// The WASI HTTP version the component exports.
    pub fn version(&self) -> WasiHttpVersion {
        self.version
    }

    /// The component's variables, as of now.
    pub fn variables(&self) -> Snapshot {
        self.config.snapshot()
    }

    /// The component's view of the live config.
    pub(crate) fn config(&self) -> &ComponentConfig {
        &self.config
    }

    /// The limits its instances run under.
    pub fn policy(&self) -> InstancePolicy {
        self.policy
    }

    /// The pre-instance.
    pub(crate) fn pre(&self) -> &ProxyPre<HostState> {
        &self.pre
    }

    /// The metrics instances are counted in.
    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// A store for a new instance: the current variables, memory limit and time limit (a
    /// stream's renews while it makes progress: [`stream::deadline_passed`]).
    pub(crate) fn new_store(&self) -> Store<HostState> {
        let state = HostState::new(
            self.config.snapshot(),
            &self.environment,
            self.policy.memory_limit,
            self.closing.clone(),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state.limits());
        let limit = self.policy.request_timeout;
        store.epoch_deadline_callback(move |hook| {
            Ok(stream::deadline_passed(
                hook.data().stream().as_deref(),
                limit,
            ))
        });
        store.set_epoch_deadline(ticks(self.policy.request_timeout));
        // WASI 0.3 guests run in the handler's worker tasks: their time in Wasm is kept here
        // (super::cpu_time). The hook costs every transition, so it is installed only where
        // it has work.
        let count = self.count_host_calls;
        let clock = self.version == WasiHttpVersion::P3;
        if count || clock {
            store.call_hook(move |mut state, hook| {
                let state = state.data_mut();
                match hook {
                    CallHook::CallingHost => {
                        if count {
                            state.count_host_call();
                        }
                        if clock {
                            state.wasm_clock().leave();
                        }
                    }
                    CallHook::ReturningFromWasm if clock => state.wasm_clock().leave(),
                    CallHook::CallingWasm | CallHook::ReturningFromHost if clock => {
                        state.wasm_clock().enter();
                    }
                    _ => {}
                }
                Ok(())
            });
        }
        store
    }

    /// Records an instance made in `took`, in the metrics and in its store's `state`; it counts
    /// as live until its store is dropped.
    pub(crate) fn instantiated(&self, state: &mut HostState, took: Duration) {
        state.instantiated(took);
        self.metrics.instantiation.observe(took.as_secs_f64());
        state.count_as_live(LiveInstance::count(self.metrics.clone()));
    }
}

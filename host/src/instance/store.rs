//! The data each guest store carries: WASI and WASI-HTTP contexts, resource table, memory
//! limits, the component's variables, and hooks that refuse every outbound request.

use std::collections::BTreeMap;

use wasmtime::StoreLimitsBuilder;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::config::Snapshot;
use std::sync::{Arc, Weak};

use crate::instance::cpu_time::WasmClock;
use crate::instance::limits::GuestLimits;
use crate::instance::stream::{Closing, StreamState};
use crate::instance::timing::InstanceUse;
use crate::metrics::Metrics;

/// Refuses every outbound HTTP request: heart-display components have
/// `allowed_outbound_hosts = []`, and the host enforces it rather than trusting the manifest.
#[derive(Debug, Default)]
pub struct DenyOutbound;

impl WasiHttpHooks for DenyOutbound {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        tracing::debug!(uri = %request.uri(), "refused outbound request from guest");
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// The same values in the form `wasmtime-wasi-config` (rc.1) reads.
fn rc1_copy(variables: &Snapshot) -> wasmtime_wasi_config::WasiConfigVariables {
    variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Per-store host data.
pub struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: DenyOutbound,
    limits: GuestLimits,
    variables: Snapshot,
    /// Made on the first read through the rc.1 interface: most guests never use it.
    rc1_variables: std::cell::OnceCell<wasmtime_wasi_config::WasiConfigVariables>,
    /// Requests this store's instance has started.
    requests: usize,
    /// Calls from the guest into the host during its current request, where counted
    /// ([`crate::runtime::engine::COUNT_HOST_CALLS_ENV`]).
    host_calls: u64,
    /// How long the instance took to make.
    instantiated_in: std::time::Duration,
    /// Whether the host asks streams to end.
    closing: Closing,
    /// The stream the instance is writing, if its request is one (and the stream is open).
    stream: Weak<StreamState>,
    /// Time its guest has run on a worker thread, over all its requests ([`super::cpu_time`]).
    guest_cpu: std::time::Duration,
    /// A WASI 0.3 guest's time in its own code, kept by the store's call hook.
    wasm_clock: WasmClock,
    /// Counts the instance as live from its instantiation until its store is dropped, however
    /// that happens (retired, expired, failed, or its request cancelled).
    counted: Option<LiveInstance>,
}

/// One instance in `heart_active_instances`, for as long as this value lives.
#[derive(Debug)]
pub(crate) struct LiveInstance(Arc<Metrics>);

impl LiveInstance {
    /// Counts one more live instance.
    pub(crate) fn count(metrics: Arc<Metrics>) -> Self {
        metrics.active_instances.inc();
        Self(metrics)
    }

    /// Records what the instance's guest spent and its memory did, as it ends.
    fn record(&self, guest_cpu: std::time::Duration, limits: &GuestLimits) {
        self.0.guest_cpu.observe(guest_cpu.as_secs_f64());
        let memory = limits.memory();
        self.0
            .guest_memory_high_water
            .observe(memory.high_water as f64);
        self.0.guest_memory_grows.inc_by(memory.grows);
    }
}

impl Drop for LiveInstance {
    fn drop(&mut self) {
        self.0.active_instances.dec();
    }
}

impl Drop for HostState {
    fn drop(&mut self) {
        if let Some(live) = &self.counted {
            live.record(self.guest_cpu + self.wasm_clock.spent(), &self.limits);
        }
    }
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("variables", &self.variables.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl HostState {
    /// State for a new store: `environment` as WASI env, no arguments, no preopened
    /// directories, no network, guest stdout/stderr passed through; linear memories capped at
    /// `memory_limit` bytes; `closing` tells its streams when to end.
    pub fn new(
        variables: Snapshot,
        environment: &BTreeMap<String, String>,
        memory_limit: usize,
        closing: Closing,
    ) -> Self {
        let mut wasi = WasiCtxBuilder::new();
        wasi.inherit_stdout().inherit_stderr();
        // No sockets and no name lookups, whatever the defaults: the sandbox has no network.
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for (k, v) in environment {
            wasi.env(k, v);
        }
        Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks: DenyOutbound,
            limits: GuestLimits::new(
                StoreLimitsBuilder::new()
                    .memory_size(memory_limit)
                    .instances(64)
                    .trap_on_grow_failure(true)
                    .build(),
            ),
            variables,
            rc1_variables: std::cell::OnceCell::new(),
            requests: 0,
            host_calls: 0,
            instantiated_in: std::time::Duration::ZERO,
            closing,
            stream: Weak::new(),
            guest_cpu: std::time::Duration::ZERO,
            wasm_clock: WasmClock::default(),
            counted: None,
        }
    }

    /// Records that the instance took `took` to make.
    pub fn instantiated(&mut self, took: std::time::Duration) {
        self.instantiated_in = took;
    }

    /// Counts the instance as live until this state (its store) is dropped.
    pub(crate) fn count_as_live(&mut self, live: LiveInstance) {
        self.counted = Some(live);
    }

    /// Requests the instance has started.
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// Counts a request the instance starts, and says whether it is the instance's first.
    pub fn start_request(&mut self) -> InstanceUse {
        self.requests += 1;
        self.host_calls = 0;
        if self.requests == 1 {
            InstanceUse::Fresh {
                instantiate: self.instantiated_in,
            }
        } else {
            InstanceUse::Reused
        }
    }

    /// Adds time its guest ran on a worker thread.
    pub(crate) fn add_guest_cpu(&mut self, spent: std::time::Duration) {
        self.guest_cpu += spent;
    }

    /// The guest's clock of time in its own code (WASI 0.3: the store's call hook runs it).
    pub(crate) fn wasm_clock(&mut self) -> &mut WasmClock {
        &mut self.wasm_clock
    }

    /// Counts a call from the guest into the host (the store's call hook, where installed).
    pub(crate) fn count_host_call(&mut self) {
        self.host_calls += 1;
    }

    /// Calls from the guest into the host since its request started (0 where not counted).
    pub(crate) fn host_calls(&self) -> u64 {
        self.host_calls
    }

    /// The memory limiter for [`wasmtime::Store::limiter`].
    pub fn limits(&mut self) -> &mut GuestLimits {
        &mut self.limits
    }

    /// Replaces the variables (when a reused instance takes a new request after a reload).
    pub fn set_variables(&mut self, variables: Snapshot) {
        if !self.holds_variables(&variables) {
            self.rc1_variables = std::cell::OnceCell::new();
            self.variables = variables;
        }
    }

    /// Whether the store holds `variables` (the very snapshot, not merely equal values).
    pub fn holds_variables(&self, variables: &Snapshot) -> bool {
        Arc::ptr_eq(&self.variables, variables)
    }

    /// Marks the instance's request as a stream, or (`None`) as none: its epoch deadline
    /// renews while an open stream makes progress.
    pub(crate) fn set_stream(&mut self, stream: Option<&Arc<StreamState>>) {
        self.stream = stream.map_or_else(Weak::new, Arc::downgrade);
    }

    /// The stream the instance is writing, while it is open.
    pub(crate) fn stream(&self) -> Option<Arc<StreamState>> {
        self.stream.upgrade()
    }

    /// Whether the host asks open streams to end.
    pub fn streams_closing(&self) -> bool {
        self.closing.is_closing()
    }

    /// The component's variables, with their config generation.
    pub fn variables(&self) -> &crate::config::Variables {
        &self.variables
    }

    /// The same variables in the form `wasmtime-wasi-config` reads.
    pub fn rc1_variables(&self) -> &wasmtime_wasi_config::WasiConfigVariables {
        self.rc1_variables.get_or_init(|| rc1_copy(&self.variables))
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

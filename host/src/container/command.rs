//! Runs a `wasi:cli` command component to completion, as a container's process: its args and
//! environment, stdio passed through, the filesystem visible read-only, and its exit code.

use std::path::PathBuf;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::runtime::engine::{self, EngineOptions};
use crate::runtime::node_cache;

/// How to run a command.
#[derive(Debug, Clone, Default)]
pub struct CommandOptions {
    /// Arguments, the program name first.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Host directories the guest sees, read-only, each at a guest path.
    pub read_only_dirs: Vec<(PathBuf, String)>,
    /// Largest guest linear memory, in bytes.
    pub memory_limit: usize,
}

/// Why a command could not run (its own failures are exit codes, not errors).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Wasmtime could not compile, link or instantiate it.
    #[error("loading the command component: {0}")]
    Load(String),
    /// A preopened directory could not be opened.
    #[error("opening {path} for the guest: {message}")]
    Preopen {
        /// The host directory.
        path: PathBuf,
        /// The error.
        message: String,
    },
    /// The guest trapped.
    #[error("the command trapped: {0}")]
    Trap(String),
}

struct CommandState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for CommandState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The engine a command runs in: one instance, no pooling, no concurrency support (a
/// `wasi:cli/run@0.2` command needs none).
pub(crate) fn engine_options(memory_limit: usize) -> EngineOptions {
    EngineOptions {
        pooling: false,
        max_instances: 1,
        max_memory_bytes: memory_limit,
    }
}

/// Runs the command component `wasm` and returns its exit code: 0 when `run` returns ok, 1
/// when it returns an error, or the code it passed to `wasi:cli/exit`.
pub async fn run(wasm: &[u8], options: &CommandOptions) -> Result<i32, CommandError> {
    let load = |e: wasmtime::Error| CommandError::Load(format!("{e:#}"));
    let engine = engine::build(engine_options(options.memory_limit), false)
        .map_err(load)?
        .engine;
    let component = match node_cache::handed_over(&engine, wasm) {
        Some(component) => component,
        None => Component::new(&engine, wasm).map_err(load)?,
    };
    let mut linker = Linker::<CommandState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(load)?;

    let mut wasi = WasiCtxBuilder::new();
    wasi.args(&options.args).inherit_stdio();
    wasi.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for (k, v) in &options.env {
        wasi.env(k, v);
    }
    for (host, guest) in &options.read_only_dirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
            .map_err(|e| CommandError::Preopen {
                path: host.clone(),
                message: format!("{e:#}"),
            })?;
    }
    let state = CommandState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(options.memory_limit)
            .build(),
    };
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.limits);
    // No epoch ticker runs for commands: they run until they exit, like a process.
    store.set_epoch_deadline(u64::MAX / 2);
    let command = Command::instantiate_async(&mut store, &component, &linker)
        .await
        .map_err(load)?;
    match command.wasi_cli_run().call_run(&mut store).await {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(CommandError::Trap(format!("{e:#}"))),
        },
    }
}

//! Runs a container's Wasm the way the containerd shim does, with no containerd types: a WASI
//! HTTP component is served on `0.0.0.0:$PORT` (default 80, as containerd-shim-spin) with the
//! host's routes (`/metrics`, health, `/api/beat`); a `wasi:cli` command runs to completion
//! with the container's args and environment and its exit code is the container's; anything
//! else is refused with the reason.
//!
//! Settings come from the container's environment through [`crate::settings`], the same
//! definitions `heart-host up`'s flags use: `PORT`, `HEART_CONFIG_DIR` (a mounted ConfigMap,
//! hot-reloaded), `HEART_MAX_INSTANCES`, `HEART_MEMORY_LIMIT_MB`, `HEART_REQUEST_TIMEOUT_MS`,
//! `HEART_INSTANCE_REUSE`, `HEART_SHUTDOWN_GRACE_SECS` (`HEART_CACHE_DIR` is refused: compiled
//! code comes only from the node cache, [`crate::runtime::node_cache`]); `SPIN_VARIABLE_*` and
//! `POD_NAME`/`POD_NAMESPACE` as for the host, and the app's variables are checked at start as
//! `heart-host up` checks them. The whole environment is the guest's WASI environment, so the
//! env-config build reads its `HEART_*` settings there.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::Engine;

use crate::app::{App, AppOptions};
use crate::container::command::{self, CommandOptions};
use crate::http::{ServerOptions, server};
use crate::runtime::wasm_kind::{self, WasiHttpVersion, WasmKind};
use crate::runtime::{engine, node_cache};
use crate::settings::{self, SettingError, Settings};

/// A container's process as the shim sees it.
#[derive(Debug, Clone, Default)]
pub struct ContainerProcess {
    /// A name for the app (the Wasm file's stem).
    pub name: String,
    /// The process args, the entrypoint first.
    pub args: Vec<String>,
    /// The process environment, `NAME=value`.
    pub env: Vec<String>,
}

/// Why a container's Wasm could not run.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The binary is not something heart runs.
    #[error("`{name}` cannot run under heart: {reason}")]
    Refused {
        /// The app name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A setting in the container's environment is invalid.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// The app could not be loaded.
    #[error(transparent)]
    App(#[from] crate::AppError),
    /// The command could not run.
    #[error(transparent)]
    Command(#[from] command::CommandError),
    /// `HEART_CACHE_DIR` is set: a container loads compiled code only from the node cache the
    /// shim writes, never from a directory of its image or volumes.
    #[error(
        "HEART_CACHE_DIR=`{}` is not accepted in a container: compiled code is loaded only from the node's cache, which the shim writes outside the container (SECURITY.md, \"Compiled code\"); unset it",
        .0.display()
    )]
    CacheDir(PathBuf),
    /// The Wasm engine could not be set up.
    #[error("setting up the Wasm engine: {0}")]
    Engine(String),
    /// Listening or serving failed.
    #[error("serving on {address}: {source}")]
    Serve {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ContainerProcess {
    /// The environment as pairs (entries without `=` are skipped).
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The value of environment variable `name` (the last one wins, as in a process).
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.env.iter().rev().find_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }
}

/// Runs the container's Wasm `wasm` until it exits or, for a server, until `shutdown`
/// resolves; returns the exit code. `listening` is told the address once a server listens.
pub async fn run(
    wasm: &[u8],
    process: &ContainerProcess,
    shutdown: impl Future<Output = ()>,
    listening: impl FnOnce(SocketAddr),
) -> Result<i32, ContainerError> {
    let kind = runnable_kind(wasm, process)?;
    // The compiled code the shim mounted for this container, if it did (it alone sets this).
    if let Some(key) = process.lookup(node_cache::ENV) {
        node_cache::accept(key);
    }
    let lookup = |name: &str| process.lookup(name);
    let settings = Settings::from_lookup(lookup)?;
    if let Some(dir) = &settings.cache_dir {
        return Err(ContainerError::CacheDir(dir.clone()));
    }
    if kind == WasmKind::Command {
        tracing::info!(name = %process.name, "running wasi:cli command");
        let options = CommandOptions {
            args: process.args.clone(),
            env: process.env_pairs(),
            read_only_dirs: vec![(PathBuf::from("/"), "/".to_owned())],
            memory_limit: settings.memory_limit_bytes(),
        };
        return Ok(command::run(wasm, &options).await?);
    }
    serve(wasm, process, &settings, shutdown, listening).await
}

/// What `wasm` is, if heart runs it.
fn runnable_kind(wasm: &[u8], process: &ContainerProcess) -> Result<WasmKind, ContainerError> {
    let refused = |reason: String| ContainerError::Refused {
        name: process.name.clone(),
        reason,
    };
    let kind = wasm_kind::classify(wasm).map_err(|e| refused(e.to_string()))?;
    match kind.refusal() {
        None => Ok(kind),
        Some(reason) => Err(refused(reason)),
    }
}

/// The app options a container's HTTP component is served with.
fn serve_options(settings: &Settings) -> AppOptions {
    AppOptions::from_settings(settings, PathBuf::new(), None, true)
}

/// The engine `run` would run `wasm` with, for `process`'s settings: what the shim compiles the
/// node cache's entry with before it makes the container (the entry's key covers the engine's
/// configuration, so the container's own engine finds it).
pub fn engine_for(wasm: &[u8], process: &ContainerProcess) -> Result<Engine, ContainerError> {
    let kind = runnable_kind(wasm, process)?;
    let settings = Settings::from_lookup(|name: &str| process.lookup(name))?;
    let (options, concurrent) = match kind {
        WasmKind::Http(version) => (
            serve_options(&settings).engine,
            version == WasiHttpVersion::P3,
        ),
        _ => (
            command::engine_options(settings.memory_limit_bytes()),
            false,
        ),
    };
    engine::build(options, concurrent)
        .map(|host| host.engine)
        .map_err(|e| ContainerError::Engine(format!("{e:#}")))
}

async fn serve(
    wasm: &[u8],
    process: &ContainerProcess,
    settings: &Settings,
    shutdown: impl Future<Output = ()>,
    listening: impl FnOnce(SocketAddr),
) -> Result<i32, ContainerError> {
    let port = settings::PORT.read(&|name: &str| process.lookup(name))?;
    let options = serve_options(settings);
    let environment: BTreeMap<String, String> = process.env_pairs().into_iter().collect();
    let app = App::single_component(&process.name, wasm, environment, &options, |k| {
        process.lookup(k)
    })?;
    app.check_heart_variables()?;
    let address = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    let serve_error = |source| ContainerError::Serve { address, source };
    let listener = crate::http::listener::bind(address).map_err(serve_error)?;
    let bound = listener.local_addr().map_err(serve_error)?;
    tracing::info!(name = %process.name, address = %bound, "serving WASI HTTP component");
    listening(bound);
    server::serve(
        listener,
        Arc::new(app),
        ServerOptions::from_settings(settings),
        shutdown,
    )
    .await
    .map_err(serve_error)?;
    Ok(0)
}

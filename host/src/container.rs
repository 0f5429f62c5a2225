//! Runs a container's Wasm the way the containerd shim does, with no containerd types: a WASI
//! HTTP component is served on `0.0.0.0:$PORT` (default 80, as containerd-shim-spin) with the
//! host's routes (`/metrics`, health, `/api/beat`); a `wasi:cli` command runs to completion
//! with the container's args and environment and its exit code is the container's; anything
//! else is refused with the reason.
//!
//! Settings come from the container's environment (the same names as `heart-host up`'s
//! flags): `PORT`, `HEART_CONFIG_DIR` (a mounted ConfigMap, hot-reloaded), `HEART_MAX_INSTANCES`,
//! `HEART_MEMORY_LIMIT_MB`, `HEART_REQUEST_TIMEOUT_MS`, `HEART_INSTANCE_REUSE`,
//! `HEART_SHUTDOWN_GRACE_SECS`, `HEART_CACHE_DIR`; `SPIN_VARIABLE_*` and `POD_NAME`/
//! `POD_NAMESPACE` as for the host. The whole environment is the guest's WASI environment, so
//! the env-config build reads its `HEART_*` settings there.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::app::{App, AppOptions};
use crate::command::{self, CommandOptions};
use crate::engine::EngineOptions;
use crate::handler::InstancePolicy;
use crate::server::{self, ServerOptions};
use crate::wasm_kind::{self, WasmKind};

/// Defaults shared with `heart-host up`'s flags.
pub mod defaults {
    /// Port when `PORT` is unset (containerd-shim-spin's default).
    pub const PORT: u16 = 80;
    /// Instances the pool holds.
    pub const MAX_INSTANCES: u32 = 256;
    /// Largest guest linear memory, MiB.
    pub const MEMORY_LIMIT_MB: usize = 64;
    /// Longest a request may run in the guest, ms.
    pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
    /// Requests per instance (1 = fresh instance per request).
    pub const INSTANCE_REUSE: usize = 1;
    /// Seconds in-flight requests get on SIGTERM.
    pub const SHUTDOWN_GRACE_SECS: u64 = 10;
}

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
    #[error("environment variable {name}=`{value}` is invalid: expected {expected}")]
    Setting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The app could not be loaded.
    #[error(transparent)]
    App(#[from] crate::AppError),
    /// The command could not run.
    #[error(transparent)]
    Command(#[from] command::CommandError),
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

    fn setting<T: FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &'static str,
        valid: impl Fn(&T) -> bool,
    ) -> Result<T, ContainerError> {
        let Some(value) = self.lookup(name) else {
            return Ok(default);
        };
        match value.trim().parse::<T>() {
            Ok(parsed) if valid(&parsed) => Ok(parsed),
            _ => Err(ContainerError::Setting {
                name,
                value,
                expected,
            }),
        }
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
    let refused = |reason: String| ContainerError::Refused {
        name: process.name.clone(),
        reason,
    };
    let kind = wasm_kind::classify(wasm).map_err(|e| refused(e.to_string()))?;
    if let Some(reason) = kind.refusal() {
        return Err(refused(reason));
    }
    let memory_mb = process.setting(
        "HEART_MEMORY_LIMIT_MB",
        defaults::MEMORY_LIMIT_MB,
        "a whole number of MiB, 1..=4096",
        |v| (1..=4096).contains(v),
    )?;
    if kind == WasmKind::Command {
        tracing::info!(name = %process.name, "running wasi:cli command");
        let options = CommandOptions {
            args: process.args.clone(),
            env: process.env_pairs(),
            read_only_dirs: vec![(PathBuf::from("/"), "/".to_owned())],
            memory_limit: memory_mb << 20,
        };
        return Ok(command::run(wasm, &options).await?);
    }
    serve(wasm, process, memory_mb, shutdown, listening).await
}

async fn serve(
    wasm: &[u8],
    process: &ContainerProcess,
    memory_mb: usize,
    shutdown: impl Future<Output = ()>,
    listening: impl FnOnce(SocketAddr),
) -> Result<i32, ContainerError> {
    let port = process.setting("PORT", defaults::PORT, "a port number 0..=65535", |_| true)?;
    let max_instances = process.setting(
        "HEART_MAX_INSTANCES",
        defaults::MAX_INSTANCES,
        "a whole number 1..=100000",
        |v| (1..=100_000).contains(v),
    )?;
    let timeout_ms = process.setting(
        "HEART_REQUEST_TIMEOUT_MS",
        defaults::REQUEST_TIMEOUT_MS,
        "milliseconds, 1..=3600000",
        |v| (1..=3_600_000).contains(v),
    )?;
    let reuse = process.setting(
        "HEART_INSTANCE_REUSE",
        defaults::INSTANCE_REUSE,
        "a whole number 1..=1000000",
        |v| (1..=1_000_000).contains(v),
    )?;
    let grace = process.setting(
        "HEART_SHUTDOWN_GRACE_SECS",
        defaults::SHUTDOWN_GRACE_SECS,
        "seconds, 0..=3600",
        |v| *v <= 3600,
    )?;
    let options = AppOptions {
        manifest: PathBuf::new(),
        cache_dir: process.lookup("HEART_CACHE_DIR").map(PathBuf::from),
        engine: EngineOptions {
            pooling: true,
            max_instances,
            max_memory_bytes: memory_mb << 20,
        },
        config_dir: process.lookup("HEART_CONFIG_DIR").map(PathBuf::from),
        policy: InstancePolicy {
            memory_limit: memory_mb << 20,
            request_timeout: Duration::from_millis(timeout_ms),
            max_reuse: reuse,
            ..InstancePolicy::default()
        },
    };
    let environment: BTreeMap<String, String> = process.env_pairs().into_iter().collect();
    let app = App::single_component(&process.name, wasm, environment, &options, |k| {
        process.lookup(k)
    })?;
    let address = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    let serve_error = |source| ContainerError::Serve { address, source };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(serve_error)?;
    let bound = listener.local_addr().map_err(serve_error)?;
    tracing::info!(name = %process.name, address = %bound, "serving WASI HTTP component");
    listening(bound);
    let server = ServerOptions {
        max_concurrent_requests: max_instances as usize,
        shutdown_grace: Duration::from_secs(grace),
        ..ServerOptions::default()
    };
    server::serve(listener, Arc::new(app), server, shutdown)
        .await
        .map_err(serve_error)?;
    Ok(0)
}

//! The servers the bench compares, each pinned to core 0 (`taskset`): heart-host (release, with
//! the native baseline route) serving a manifest, and `wasmtime serve` serving a plain-WASI
//! component.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Result;
use heart_manifest::manifest::Manifest;

use crate::cmd::root;
use crate::host_process::{ServerProcess, free_port, wait_ready};
use crate::wasmtime_cli;

/// Starts heart-host (release, native baseline) on core 0 and waits until it answers.
pub(super) fn start_host(host: &Path, manifest: &Path, extra: &[&str]) -> Result<ServerProcess> {
    start_host_with(host, manifest, extra, &[])
}

/// [`start_host`] with `env` added to its environment.
pub(super) fn start_host_with(
    host: &Path,
    manifest: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Result<ServerProcess> {
    let mut command = Command::new("taskset");
    command.envs(env.iter().copied());
    command
        .args(["-c", "0"])
        .arg(host)
        .args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(manifest)
        .args(extra)
        .env_remove("RUST_LOG")
        .stderr(Stdio::null());
    let server = ServerProcess::host(command)?;
    wait_ready(&server.base, Duration::from_secs(60))?;
    Ok(server)
}

/// The WASI HTTP version a component served by `wasmtime serve` exports.
#[derive(Debug, Clone, Copy)]
pub(super) enum WasiHttp {
    /// `wasi:http/incoming-handler@0.2`.
    P2,
    /// `wasi:http/handler@0.3`.
    P3,
}

/// Starts `wasmtime serve` on core 0 with a plain-WASI component, with its default instance
/// policy (for WASI 0.3, its own instance reuse).
pub(super) fn start_wasmtime(
    wasmtime: &Path,
    component: &Path,
    version: WasiHttp,
) -> Result<ServerProcess> {
    let port = free_port()?;
    let mut serve = Command::new("taskset");
    serve.args(["-c", "0"]).arg(wasmtime).args([
        "serve",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "-S",
        "cli",
    ]);
    if let WasiHttp::P3 = version {
        serve.args(wasmtime_cli::SERVE_P3);
    }
    serve
        .arg(component)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    ServerProcess::at(
        serve,
        format!("http://127.0.0.1:{port}"),
        Duration::from_secs(120),
    )
}

/// The root spin.toml serving `wasm` instead of its own build, written in `dir`.
pub(super) fn manifest_for(dir: &Path, wasm: &Path) -> Result<PathBuf> {
    let manifest = Manifest::load(&root().join("spin.toml"))?.serving(wasm);
    std::fs::create_dir_all(dir)?;
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest.to_toml())?;
    Ok(path)
}

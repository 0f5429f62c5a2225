//! `cargo xtask check-wasmtime-serve`: the plain-WASI builds (`dist/heart_http_env.wasm`, WASI
//! 0.2, and `dist/heart_http_p3_env.wasm`, WASI 0.3) under `wasmtime serve` from wasmtime-cli
//! 50.0.1 — a host with no config interface — with their settings as WASI environment
//! variables. Every route and format must answer as under heart-host. (wasmtime-cli is
//! installed once into the tools dir, ≈ 17 min, so this is on demand rather than in `cargo
//! xtask test`.)

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, ensure};

use crate::build::{ENV_CONFIG_COMPONENT, ENV_CONFIG_P3_COMPONENT};
use crate::cmd::root;
use crate::host_process::{ServerProcess, free_port};
use crate::wasmtime_cli;

/// Serves each env-config component with `wasmtime serve -S cli --env HEART_*` and checks it.
pub fn check() -> Result<()> {
    crate::build::all()?;
    let wasmtime = wasmtime_cli::installed()?;
    for (file, extra) in [
        (ENV_CONFIG_COMPONENT, &[][..]),
        (ENV_CONFIG_P3_COMPONENT, &wasmtime_cli::SERVE_P3[..]),
    ] {
        let component = root().join("dist").join(file);
        let port = free_port()?;
        let mut serve = Command::new(&wasmtime);
        serve
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "-S", "cli"])
            .args(extra)
            .args(["--env", "HEART_LOVE_LEVEL=9", "--env", "HEART_BPM=130"])
            .arg(&component)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = ServerProcess::at(
            serve,
            format!("http://127.0.0.1:{port}"),
            Duration::from_secs(120),
        )
        .with_context(|| format!("{file} under wasmtime serve"))?;
        checks(&server.base).with_context(|| format!("{file} under wasmtime serve"))?;
        drop(server);
        eprintln!(
            "wasmtime serve ({}) serves {file}: every check passed",
            wasmtime.display()
        );
    }
    Ok(())
}

fn checks(base: &str) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str| -> Result<(u16, String, Vec<u8>)> {
        let mut r = agent.get(format!("{base}{path}")).call()?;
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((r.status().as_u16(), ct, r.body_mut().read_to_vec()?))
    };
    let (status, _, body) = get("/api/config")?;
    let config: serde_json::Value = serde_json::from_slice(&body)?;
    ensure!(status == 200, "/api/config: {status}");
    ensure!(
        config["love_level"] == 9 && config["bpm"] == 130,
        "the WASI env did not reach the guest: {config}"
    );
    for (format, content_type) in [
        ("svg", "image/svg+xml"),
        ("json", "application/json"),
        ("png", "image/png"),
        ("txt", "text/plain; charset=utf-8"),
    ] {
        let (status, ct, body) = get(&format!("/api/heart?format={format}"))?;
        ensure!(
            status == 200 && ct == content_type && !body.is_empty(),
            "/api/heart?format={format}: {status} {ct}"
        );
        eprintln!(
            "  /api/heart?format={format}: {status} {ct} ({} bytes)",
            body.len()
        );
    }
    let (page, ct, _) = get("/")?;
    ensure!(page == 200 && ct.starts_with("text/html"), "/: {page} {ct}");
    let (status, _, body) = get("/api/heart?love=11")?;
    let text = String::from_utf8_lossy(&body);
    ensure!(
        status == 400 && text.contains("1..=10"),
        "/api/heart?love=11: {status} {text}"
    );
    eprintln!("  /: {page} {ct}; /api/heart?love=11: {status} naming the range");
    Ok(())
}

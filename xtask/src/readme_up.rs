//! The README's run command, run as a newcomer runs it: `cargo xtask up -- --listen
//! 127.0.0.1:<free port>` in the checkout, as a process group of its own (as a shell runs a
//! foreground job), with a rustup home that holds only rustup's default toolchain and
//! `RUSTUP_AUTO_INSTALL=0` ([`NewcomerRustup`]): the command must install the pinned toolchain
//! itself. Once it prints its URL, the page, the API (SVG and JSON) and `/metrics` must answer;
//! then Ctrl-C (SIGINT to the whole group) must stop it with exit status 0 within the host's
//! shutdown grace.

use std::io::BufReader;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, ensure};

use crate::cmd::root;
use crate::foreground::{self, Job};
use crate::newcomer_rustup::NewcomerRustup;

/// Runs the check; fails naming what did not answer or how the command ended.
pub fn check() -> Result<()> {
    let port = crate::host_process::free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let rustup = NewcomerRustup::new()?;
    eprintln!(
        "\n==> a rustup home holding only {} (RUSTUP_AUTO_INSTALL=0)",
        rustup.default
    );
    let mut up = rustup.cargo();
    up.args(["xtask", "up", "--", "--listen", &listen])
        .current_dir(root())
        .stdout(Stdio::piped());
    eprintln!("\n==> {up:?} (the README's run command)");
    foreground::run(&mut up, "cargo xtask up", |job| {
        serve_and_stop(job, &listen)
    })?;
    let toolchains = rustup.toolchains()?;
    ensure!(
        toolchains
            .iter()
            .any(|t| t.starts_with(&format!("{}-", xtask_toolchain::CHANNEL))),
        "the rustup home holds {toolchains:?} after `cargo xtask up`, not Rust {}",
        xtask_toolchain::CHANNEL
    );
    eprintln!(
        "ok: the command installed Rust {} itself",
        xtask_toolchain::CHANNEL
    );
    Ok(())
}

fn serve_and_stop(job: &mut Job, listen: &str) -> Result<()> {
    let mut stdout = BufReader::new(job.child.stdout.take().context("piped stdout")?);
    let base = crate::host_process::base_url(&mut stdout)?;
    // Keep passing on what it prints (a full pipe would block it).
    let echo = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::stderr()));
    ensure!(
        base == format!("http://{listen}"),
        "cargo xtask up printed {base}, not http://{listen}"
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let get = |path: &str, accept: &str| -> Result<(String, String)> {
        let mut response = agent
            .get(format!("{base}{path}"))
            .header("Accept", accept)
            .call()
            .with_context(|| format!("GET {path}"))?;
        ensure!(
            response.status() == 200,
            "GET {path}: status {}",
            response.status()
        );
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((kind, response.body_mut().read_to_string()?))
    };
    let (kind, page) = get("/", "text/html")?;
    ensure!(
        kind.starts_with("text/html") && page.contains("<canvas"),
        "GET /: not the canvas page ({kind})"
    );
    let (kind, svg) = get("/api/heart", "image/svg+xml")?;
    ensure!(
        kind.starts_with("image/svg+xml") && svg.contains("<svg") && svg.contains("<path"),
        "GET /api/heart: not an SVG heart ({kind})"
    );
    let (kind, json) = get("/api/heart", "application/json")?;
    let frame: serde_json::Value =
        serde_json::from_str(&json).context("GET /api/heart as JSON: not JSON")?;
    ensure!(
        kind.starts_with("application/json")
            && frame["love_level"] == 7
            && frame["points"].as_array().is_some_and(|p| p.len() == 128),
        "GET /api/heart as JSON: not spin.toml's default heart of 128 points ({kind}): {json:.200}"
    );
    let (_, metrics) = get("/metrics", "text/plain")?;
    ensure!(
        metrics.contains("heart_http_requests_total{") && metrics.contains("route=\"/...\""),
        "GET /metrics: the requests above are not counted"
    );
    eprintln!("ok: {base}/ serves the page, the SVG and JSON heart and /metrics");

    job.ctrl_c()?;
    let _ = echo.join();
    Ok(())
}

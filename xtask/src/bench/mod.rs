//! `cargo xtask bench`: the host's performance figures as ratios measured in one run on this
//! machine, printed as a table and written as JSON. Nothing here asserts a timing.
//!
//! 1. `/heart.svg` through the component vs the same request answered natively in-process by
//!    the same routing function (`/native/…`, host feature `native-baseline`), fresh instance
//!    per request and with instance reuse.
//! 2. heart-host vs `wasmtime serve` (wasmtime-cli 50.0.1, installed once into the tools dir)
//!    serving the same plain-WASI component (`heart_http_env.wasm`), metrics on in ours.
//! 3. Per-request instantiate + handle in-process (criterion bench `instantiate`).
//! 4. Cold start, exec → first 200, with and without the compile cache.
//! 5. RSS idle and under load.
//! 6. The presence table at 1M clients (bench `presence`).
//!
//! 7. Memory after a burst ([`memory`]).
//!
//! Loopback only; the server is pinned to core 0 and `wrk -t1 -c16` to core 1 (`taskset`).
//! The machine is shared and its speed drifts over seconds, so the HTTP scenarios run
//! interleaved: every server is started first, then each round loads every scenario in turn.
//! Figures are medians over the rounds, and each ratio is the median of the per-round ratios
//! (both sides measured seconds apart), with its range.

use std::io::BufReader;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::build::{ENV_CONFIG_COMPONENT, ENV_CONFIG_P3_COMPONENT, target_dir};
use crate::cmd::{cargo, root, run, tools_dir};

mod memory;

/// The wasmtime-cli release the host is built against.
const WASMTIME_CLI: &str = "50.0.1";

/// What `wasmtime serve` needs to serve a WASI 0.3 component.
pub(crate) const WASMTIME_SERVE_P3: [&str; 4] = ["-S", "p3", "-W", "component-model-async"];

/// Options.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Seconds of load per HTTP scenario and round.
    pub seconds: u64,
    /// Rounds: every HTTP scenario is loaded once per round, in turn.
    pub rounds: usize,
    /// Cold starts timed per mode.
    pub cold_starts: usize,
}

/// One wrk run.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    rss_mb: f64,
}

impl Load {
    fn json(self) -> Value {
        json!({ "rps": self.rps, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "rss_mb_under_load": self.rss_mb })
    }
}

/// A server process killed (by its PID) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_mb(&self) -> f64 {
        rss_mb(self.child.id())
    }
}

pub(crate) fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn require(tool: &str, package: &str) -> Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()?
        .success();
    if !found {
        bail!("`{tool}` is needed for the benchmarks: apt-get install {package}");
    }
    Ok(())
}

/// `wasmtime` from wasmtime-cli 50.0.1, installed into the tools dir on first use (≈ 17 min).
pub(crate) fn wasmtime_cli() -> Result<PathBuf> {
    let dir = tools_dir().join(format!("wasmtime-cli-{WASMTIME_CLI}"));
    crate::cmd::installed_tool("wasmtime-cli", WASMTIME_CLI, true, &dir, "wasmtime")
}

/// Starts heart-host (release, native baseline) on core 0 and waits for its address.
fn start_host(host: &Path, manifest: &Path, extra: &[&str]) -> Result<Server> {
    let mut child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(host)
        .args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(manifest)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting heart-host")?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let base = match crate::host_process::base_url(&mut BufReader::new(stdout)) {
        Ok(base) => base,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    let server = Server { base, child };
    wait_ready(&server.base, Duration::from_secs(60))?;
    Ok(server)
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The WASI HTTP version a component served by `wasmtime serve` exports.
#[derive(Debug, Clone, Copy)]
enum WasiHttp {
    P2,
    P3,
}

/// Starts `wasmtime serve` on core 0 with a plain-WASI component, with its default instance
/// policy (for WASI 0.3, its own instance reuse).
fn start_wasmtime(wasmtime: &Path, component: &Path, version: WasiHttp) -> Result<Server> {
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
        serve.args(WASMTIME_SERVE_P3);
    }
    let child = serve
        .arg(component)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting wasmtime serve")?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_ready(&server.base, Duration::from_secs(120))?;
    Ok(server)
}

fn get_status(url: &str) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent.get(url).call().ok().map(|r| r.status().as_u16())
}

pub(crate) fn wait_ready(base: &str, limit: Duration) -> Result<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if get_status(&format!("{base}/api/symbol")) == Some(200) {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    bail!("{base} did not answer 200 within {limit:?}")
}

/// Milliseconds from a wrk figure like `6.90ms`, `812.00us` or `1.02s`.
fn millis(figure: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = figure.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = figure.strip_suffix("ms") {
        (n, 1.0)
    } else {
        (figure.strip_suffix('s')?, 1000.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Parses wrk's `--latency` report.
fn parse_wrk(report: &str) -> Result<Load> {
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{report}"))?;
    let p50 = field("50%").and_then(millis).context("no 50% latency")?;
    let p99 = field("99%").and_then(millis).context("no 99% latency")?;
    if report.contains("Non-2xx or 3xx responses") || report.contains("Socket errors") {
        bail!("the load run had errors:\n{report}");
    }
    Ok(Load {
        rps,
        p50_ms: p50,
        p99_ms: p99,
        rss_mb: 0.0,
    })
}

/// wrk on core 1: one thread, `connections` keep-alive connections on `url` for `seconds`.
fn spawn_wrk(url: &str, connections: usize, seconds: u64) -> Result<Child> {
    Command::new("taskset")
        .args(["-c", "1", "wrk", "-t1"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        // Large PNGs under load take over wrk's default 2 s; the latencies are reported anyway.
        .args(["--timeout", "10s", "--latency"])
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting wrk")
}

/// Waits for a wrk started by [`spawn_wrk`] and parses its report.
fn wrk_report(wrk: Child, url: &str) -> Result<Load> {
    let output = wrk.wait_with_output()?;
    parse_wrk(&String::from_utf8_lossy(&output.stdout)).with_context(|| format!("loading {url}"))
}

/// Loads `url` with wrk on core 1 for `seconds`, sampling the server's RSS half-way.
fn load(server: &Server, path: &str, seconds: u64) -> Result<Load> {
    let url = format!("{}{path}", server.base);
    let wrk = spawn_wrk(&url, 16, seconds)?;
    std::thread::sleep(Duration::from_millis(seconds * 500));
    let rss = server.rss_mb();
    let mut figures = wrk_report(wrk, &url)?;
    figures.rss_mb = rss;
    eprintln!(
        "    {url}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, RSS {:.1} MB",
        figures.rps, figures.p50_ms, figures.p99_ms, figures.rss_mb
    );
    Ok(figures)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Loads each `(server, path)` scenario in turn, once per round (after one unrecorded second
/// each to warm up), so that the machine's slow and fast spells fall on every scenario alike.
fn interleaved(
    servers: &[Server],
    scenarios: &[(usize, &str)],
    rounds: usize,
    secs: u64,
) -> Result<Vec<Vec<Load>>> {
    for &(server, path) in scenarios {
        load(&servers[server], path, 1)?;
    }
    let mut runs = vec![Vec::with_capacity(rounds); scenarios.len()];
    for round in 1..=rounds.max(1) {
        eprintln!("  round {round}");
        for (i, &(server, path)) in scenarios.iter().enumerate() {
            runs[i].push(load(&servers[server], path, secs)?);
        }
    }
    Ok(runs)
}

/// The median of each figure over the rounds.
fn summary(runs: &[Load]) -> Load {
    let of = |figure: fn(&Load) -> f64| median(runs.iter().map(figure).collect());
    Load {
        rps: of(|l| l.rps),
        p50_ms: of(|l| l.p50_ms),
        p99_ms: of(|l| l.p99_ms),
        rss_mb: of(|l| l.rss_mb),
    }
}

/// A throughput ratio from interleaved rounds: the median and range of the per-round ratios.
#[derive(Debug)]
struct Ratio {
    per_round: Vec<f64>,
}

impl Ratio {
    fn of(a: &[Load], b: &[Load]) -> Self {
        Self {
            per_round: a.iter().zip(b).map(|(a, b)| a.rps / b.rps).collect(),
        }
    }

    fn median(&self) -> f64 {
        median(self.per_round.clone())
    }

    fn range(&self) -> (f64, f64) {
        self.per_round
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(*r), hi.max(*r))
            })
    }

    fn text(&self, baseline: &str) -> String {
        let (lo, hi) = self.range();
        format!("{:.2}× {baseline} [{lo:.2}–{hi:.2}]", self.median())
    }

    fn json(&self) -> Value {
        let (lo, hi) = self.range();
        json!({ "median": self.median(), "min": lo, "max": hi, "per_round": self.per_round })
    }
}

/// spin.toml with the component source replaced by `wasm` (absolute), in `dir`.
fn manifest_for(dir: &Path, wasm: &Path) -> Result<PathBuf> {
    let text = std::fs::read_to_string(root().join("spin.toml"))?;
    let rewritten = text.replace(
        "source = \"dist/heart_http.wasm\"",
        &format!("source = \"{}\"", wasm.display()),
    );
    if rewritten == text {
        bail!("spin.toml no longer has source = \"dist/heart_http.wasm\"");
    }
    std::fs::create_dir_all(dir)?;
    let path = dir.join("spin.toml");
    std::fs::write(&path, rewritten)?;
    Ok(path)
}

/// Criterion's median estimate for `group/name`, in microseconds.
fn criterion_median_us(group: &str, name: &str) -> Result<f64> {
    let file = target_dir()
        .join("criterion")
        .join(group)
        .join(name.replace('/', "_"))
        .join("new/estimates.json");
    let estimates: Value = serde_json::from_slice(
        &std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?,
    )?;
    estimates["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns / 1000.0)
        .context("no median in criterion estimates")
}

/// RSS of a host started with `extra`, read once one reclaim interval has passed since it
/// answered.
fn idle_after_start(host: &Path, manifest: &Path, extra: &[&str]) -> Result<f64> {
    let server = start_host(host, manifest, extra)?;
    std::thread::sleep(Duration::from_secs(3));
    Ok(server.rss_mb())
}

/// Times exec → first 200 `runs` times.
fn cold_starts(host: &Path, manifest: &Path, cache: Option<&Path>, runs: usize) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut args: Vec<String> = Vec::new();
        match cache {
            Some(dir) => args.extend(["--cache-dir".into(), dir.display().to_string()]),
            None => args.push("--no-cache".into()),
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = Instant::now();
        let server = start_host(host, manifest, &refs)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(server);
    }
    Ok(median(times))
}

/// Runs every benchmark and reports.
pub fn bench(options: BenchOptions) -> Result<()> {
    require("wrk", "wrk")?;
    require("taskset", "util-linux")?;
    crate::build::all()?;
    let host = crate::build::release_host(&["--features", "native-baseline"])?;
    let wasmtime = wasmtime_cli()?;
    let work = tempfile::tempdir()?;
    let manifest = root().join("spin.toml");
    let env_component = root().join("dist").join(ENV_CONFIG_COMPONENT);
    let env_p3_component = root().join("dist").join(ENV_CONFIG_P3_COMPONENT);
    let env_manifest = manifest_for(&work.path().join("env"), &env_component)?;
    let env_p3_manifest = manifest_for(&work.path().join("env-p3"), &env_p3_component)?;
    let secs = options.seconds;

    eprintln!(
        "\n==> 1 and 2. /heart.svg: component vs native; heart-host vs wasmtime serve {WASMTIME_CLI} ({ENV_CONFIG_COMPONENT}, {ENV_CONFIG_P3_COMPONENT}); {} rounds of {secs} s",
        options.rounds
    );
    let reuse = ["--no-cache", "--instance-reuse", "1000"];
    let ours = start_host(&host, &manifest, &["--no-cache"])?;
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = ours.rss_mb();
    let theirs_server = start_wasmtime(&wasmtime, &env_component, WasiHttp::P2)?;
    std::thread::sleep(Duration::from_millis(500));
    let theirs_idle = theirs_server.rss_mb();
    let servers = [
        ours,
        start_host(&host, &manifest, &reuse)?,
        start_host(&host, &env_manifest, &["--no-cache"])?,
        start_host(&host, &env_manifest, &reuse)?,
        theirs_server,
        start_host(&host, &env_p3_manifest, &reuse)?,
        start_wasmtime(&wasmtime, &env_p3_component, WasiHttp::P3)?,
    ];
    let scenarios = [
        (0, "/native/heart.svg"),
        (0, "/heart.svg"),
        (1, "/heart.svg"),
        (2, "/heart.svg"),
        (3, "/heart.svg"),
        (4, "/heart.svg"),
        (5, "/heart.svg"),
        (6, "/heart.svg"),
    ];
    let runs = interleaved(&servers, &scenarios, options.rounds, secs)?;
    drop(servers);
    let [
        native,
        fresh,
        reused,
        ours_env,
        ours_env_reused,
        theirs,
        ours_p3_reused,
        theirs_p3,
    ] = [0, 1, 2, 3, 4, 5, 6, 7].map(|i| summary(&runs[i]));
    let fresh_vs_native = Ratio::of(&runs[1], &runs[0]);
    let reused_vs_native = Ratio::of(&runs[2], &runs[0]);
    let fresh_vs_wasmtime = Ratio::of(&runs[3], &runs[5]);
    let reused_vs_wasmtime = Ratio::of(&runs[4], &runs[5]);
    let reused_vs_wasmtime_p3 = Ratio::of(&runs[4], &runs[7]);
    let p3_reused_vs_wasmtime_p3 = Ratio::of(&runs[6], &runs[7]);

    eprintln!("\n==> 3. per-request instantiate + handle (criterion)");
    run(cargo().args([
        "bench",
        "--locked",
        "-p",
        "heart-host",
        "--bench",
        "instantiate",
    ]))?;
    let group = "instantiate_and_handle";
    let criterion = [
        ("fresh_symbol_us", "fresh/api/symbol"),
        ("fresh_svg_us", "fresh/heart.svg"),
        ("reused_symbol_us", "reused/api/symbol"),
        ("reused_svg_us", "reused/heart.svg"),
    ]
    .map(|(key, name)| (key, criterion_median_us(group, name)));

    eprintln!("\n==> 4. cold start, exec → first 200");
    let cache = work.path().join("cache");
    let compiled = cold_starts(&host, &manifest, None, options.cold_starts)?;
    cold_starts(&host, &manifest, Some(&cache), 1)?; // fills the cache
    let cached = cold_starts(&host, &manifest, Some(&cache), options.cold_starts)?;

    eprintln!("\n==> 5. RSS idle after start (read after one reclaim interval), and after a burst");
    let idle_compiled = idle_after_start(&host, &manifest, &["--no-cache"])?;
    let cache_flag = ["--cache-dir", &cache.display().to_string()].map(String::from);
    let idle_cached =
        idle_after_start(&host, &manifest, &cache_flag.each_ref().map(String::as_str))?;
    eprintln!(
        "    idle: {idle_compiled:.1} MB after compiling, {idle_cached:.1} MB from the cache"
    );
    let burst = memory::after_burst(&host, &manifest)?;

    eprintln!("\n==> 6. presence table");
    let presence = cargo()
        .args([
            "bench",
            "--locked",
            "-p",
            "heart-host",
            "--bench",
            "presence",
        ])
        .stderr(Stdio::inherit())
        .output()?;
    let presence_text = String::from_utf8_lossy(&presence.stdout);
    eprint!("{presence_text}");
    let presence_json: Value = presence_text
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);

    let mut criterion_json = serde_json::Map::new();
    for (key, value) in &criterion {
        criterion_json.insert(
            (*key).into(),
            value.as_ref().map_or(Value::Null, |v| json!(v)),
        );
    }
    let us = |key: &str| {
        criterion_json
            .get(key)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let report = json!({
        "load": { "tool": "wrk -t1 -c16 (core 1), server on core 0", "seconds": secs, "rounds": options.rounds, "figures": "medians over the rounds; ratios: median of per-round ratios" },
        "native_svg": native.json(),
        "component_svg_fresh": fresh.json(),
        "component_svg_reused": reused.json(),
        "ratio_fresh_vs_native": fresh_vs_native.json(),
        "ratio_reused_vs_native": reused_vs_native.json(),
        "heart_host_env_component_fresh": ours_env.json(),
        "heart_host_env_component_reused": ours_env_reused.json(),
        "wasmtime_serve_env_component": theirs.json(),
        "ratio_heart_host_vs_wasmtime_serve_fresh": fresh_vs_wasmtime.json(),
        "ratio_heart_host_vs_wasmtime_serve_reused": reused_vs_wasmtime.json(),
        "heart_host_env_p3_component_reused": ours_p3_reused.json(),
        "wasmtime_serve_env_p3_component_default_reuse": theirs_p3.json(),
        "ratio_heart_host_reused_vs_wasmtime_serve_p3": reused_vs_wasmtime_p3.json(),
        "ratio_heart_host_p3_reused_vs_wasmtime_serve_p3": p3_reused_vs_wasmtime_p3.json(),
        "instantiate_and_handle_median_us": criterion_json,
        "cold_start_ms": { "compiled": compiled, "cached": cached, "runs": options.cold_starts },
        "rss_mb": {
            "heart_host_idle_at_start": idle_rss, "heart_host_idle_compiled": idle_compiled,
            "heart_host_idle_cached": idle_cached, "heart_host_load": fresh.rss_mb,
            "heart_host_load_reused": reused.rss_mb, "wasmtime_serve_idle": theirs_idle,
            "wasmtime_serve_load": theirs.rss_mb, "after_burst": burst.json(),
        },
        "presence": presence_json,
    });

    let row = |name: &str, l: &Load, ratio: String| {
        println!(
            "| {name:<44} | {:>9.0} | {:>7.2} | {:>7.2} | {:>7.1} | {ratio:>34} |",
            l.rps, l.p50_ms, l.p99_ms, l.rss_mb
        );
    };
    println!(
        "\n{} rounds of {secs} s per scenario, interleaved.",
        options.rounds
    );
    println!(
        "| scenario (/heart.svg), medians               |     req/s | p50 ms  | p99 ms  | RSS MB  | ratio: median [range]              |"
    );
    println!(
        "|----------------------------------------------|-----------|---------|---------|---------|------------------------------------|"
    );
    row(
        "native, in-process (heart-host /native)",
        &native,
        "1.00 (baseline)".into(),
    );
    row(
        "component, fresh instance per request",
        &fresh,
        fresh_vs_native.text("native"),
    );
    row(
        "component, instance reuse 1000",
        &reused,
        reused_vs_native.text("native"),
    );
    row(
        "heart-host, env component, fresh",
        &ours_env,
        fresh_vs_wasmtime.text("wasmtime serve"),
    );
    row(
        "heart-host, env component, reuse 1000",
        &ours_env_reused,
        reused_vs_wasmtime.text("wasmtime serve"),
    );
    row(
        &format!("wasmtime serve {WASMTIME_CLI}, env component"),
        &theirs,
        "1.00 (baseline)".into(),
    );
    row(
        "heart-host, env 0.3 component, reuse 1000",
        &ours_p3_reused,
        p3_reused_vs_wasmtime_p3.text("wasmtime serve 0.3"),
    );
    row(
        &format!("wasmtime serve {WASMTIME_CLI}, env 0.3, its reuse"),
        &theirs_p3,
        "1.00 (baseline 0.3)".into(),
    );
    println!(
        "heart-host reused (env 0.2 component) vs wasmtime serve 0.3 with its reuse: {}",
        reused_vs_wasmtime_p3.text("wasmtime serve 0.3")
    );
    println!();
    println!(
        "instantiate + handle, in-process medians: fresh /api/symbol {:.1} µs, /heart.svg {:.1} µs; reused /api/symbol {:.1} µs, /heart.svg {:.1} µs",
        us("fresh_symbol_us"),
        us("fresh_svg_us"),
        us("reused_symbol_us"),
        us("reused_svg_us")
    );
    println!(
        "cold start (median of {}): {compiled:.0} ms compiling, {cached:.0} ms from the cache ({:.0}×)",
        options.cold_starts,
        compiled / cached
    );
    println!(
        "RSS idle: heart-host {idle_compiled:.1} MB after compiling, {idle_cached:.1} MB from the cache; wasmtime serve {theirs_idle:.1} MB"
    );
    println!(
        "RSS under load (wrk -c16): heart-host fresh {:.1} MB, reused {:.1} MB; wasmtime serve {:.1} MB",
        fresh.rss_mb, reused.rss_mb, theirs.rss_mb
    );
    println!(
        "RSS around a burst: steady {:.1} MB, peak {:.1} MB, {} s after {:.1} MB ({:.2}× steady)",
        burst.steady_mb,
        burst.peak_mb,
        memory::SETTLE.as_secs(),
        burst.after_mb,
        burst.ratio()
    );
    let out = target_dir().join("heart-bench.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("JSON: {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rps(values: &[f64]) -> Vec<Load> {
        values
            .iter()
            .map(|&rps| Load {
                rps,
                ..Load::default()
            })
            .collect()
    }

    #[test]
    fn ratios_are_medians_of_per_round_ratios() {
        // Round 2 is a slow spell for both sides: per-round ratios ignore it, a ratio of the
        // medians (4 / 5 = 0.8) would not.
        let component = rps(&[6.0, 1.0, 4.0]);
        let native = rps(&[10.0, 2.0, 5.0]);
        let ratio = Ratio::of(&component, &native);
        assert_eq!(ratio.per_round, vec![0.6, 0.5, 0.8]);
        assert_eq!(ratio.median(), 0.6);
        assert_eq!(ratio.range(), (0.5, 0.8));
        assert_eq!(ratio.text("native"), "0.60× native [0.50–0.80]");
        assert_eq!(summary(&component).rps, 4.0);
    }

    #[test]
    fn wrk_reports_parse_in_every_unit() {
        let report = "  Latency Distribution\n     50%  812.00us\n     75%    1.20ms\n     90%    2.00ms\n     99%    1.02s\n  100 requests in 1.00s\nRequests/sec:   2479.12\n";
        let load = parse_wrk(report).expect("parses");
        assert_eq!(
            (load.rps, load.p50_ms, load.p99_ms),
            (2479.12, 0.812, 1020.0)
        );
        assert!(
            parse_wrk("Requests/sec: 1\n  Non-2xx or 3xx responses: 3\n 50% 1ms\n 99% 2ms")
                .is_err()
        );
    }

    #[test]
    fn the_wasmtime_cli_anchor_is_the_hosts_wasmtime() {
        let manifest =
            std::fs::read_to_string(root().join("Cargo.toml")).expect("the workspace Cargo.toml");
        assert!(
            manifest.contains(&format!("wasmtime = \"={WASMTIME_CLI}\"")),
            "bench.rs's WASMTIME_CLI {WASMTIME_CLI} is not the workspace's wasmtime pin"
        );
    }
}

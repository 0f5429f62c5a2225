//! The bench run: every scenario in order, then the table and the JSON report.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::criterion;
use super::memory;
use super::servers::{WasiHttp, manifest_for, start_host, start_wasmtime};
use super::startup::{cold_starts, idle_after_start};
use super::stats::Ratio;
use super::wrk::{Load, interleaved, summary};
use crate::build::{ENV_CONFIG_COMPONENT, ENV_CONFIG_P3_COMPONENT, target_dir};
use crate::cmd::{cargo, root, run};
use crate::wasmtime_cli::{self, VERSION as WASMTIME_CLI};

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

pub(super) fn require(tool: &str, package: &str) -> Result<()> {
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

/// Runs every benchmark and reports.
pub fn bench(options: BenchOptions) -> Result<()> {
    require("wrk", "wrk")?;
    require("taskset", "util-linux")?;
    crate::build::all()?;
    let host = crate::build::release_host(&["--features", "native-baseline"])?;
    let wasmtime = wasmtime_cli::installed()?;
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
    .map(|(key, name)| (key, criterion::median_us(group, name)));

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

//! `cargo xtask soak`: load on the real host over loopback, bounded in time and requests —
//! `connections` keep-alive clients mixing every format with beats from `clients` simulated
//! presence clients. Reports req/s, p50/p99, errors (goal 0), RSS and open fds at start and
//! end (goal: RSS growth < 10%), and checks the presence gauges against the simulated clients.
//! Prints a table and writes `target/heart-soak.json`; fails on any error or inconsistency.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use serde_json::json;

use crate::build::target_dir;
use crate::cmd::{cargo, root, run};
use crate::host_process::ServerProcess;

/// How hard and how long.
#[derive(Debug, Clone, Copy)]
pub struct SoakOptions {
    /// Seconds of load.
    pub seconds: u64,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Simulated presence clients (each beats with its own id and sequence).
    pub clients: usize,
    /// Upper bound on requests, whatever the time.
    pub max_requests: u64,
}

const PATHS: [&str; 6] = [
    "/api/heart?format=svg",
    "/api/heart?format=json",
    "/api/heart?format=png&size=64",
    "/api/heart?format=txt",
    "/api/symbol?bpm=110",
    "/api/pulse?samples=64",
];

struct Worker {
    latencies_us: Vec<u64>,
    errors: Vec<String>,
    beats: u64,
}

/// Runs the soak against a freshly started release host (built if needed).
pub fn soak(options: SoakOptions) -> Result<()> {
    let host_bin = crate::build::host_binary();
    if !host_bin.is_file() {
        run(cargo().args(["build", "--locked", "--release", "-p", "heart-host"]))?;
    }
    let mut command = Command::new(&host_bin);
    command
        .args(["up", "--listen", "127.0.0.1:0", "--no-cache", "--from"])
        .arg(root().join("spin.toml"))
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit());
    let host = ServerProcess::host(command)?;
    drive(&host, options)
}

fn drive(host: &ServerProcess, options: SoakOptions) -> Result<()> {
    let base = host.base.clone();
    let agent = || -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    };
    // Warm up: compile paths, first instances.
    let warm = agent();
    for path in PATHS {
        warm.get(format!("{base}{path}")).call()?;
    }
    let rss_start = host.rss_mb();
    let fds_start = host.open_files();

    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..options.connections)
        .map(|w| {
            let (base, sent, stop, agent) = (base.clone(), sent.clone(), stop.clone(), agent());
            let clients: Vec<usize> = (w..options.clients).step_by(options.connections).collect();
            std::thread::spawn(move || {
                let mut worker = Worker {
                    latencies_us: Vec::new(),
                    errors: Vec::new(),
                    beats: 0,
                };
                let mut seq = vec![0u64; clients.len()];
                let mut i = 0usize;
                while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                    if sent.fetch_add(1, Ordering::Relaxed) >= options.max_requests {
                        break;
                    }
                    let began = Instant::now();
                    // Every third request is a beat from the next simulated client.
                    let result = if i % 3 == 2 && !clients.is_empty() {
                        let c = (i / 3) % clients.len();
                        seq[c] += 1;
                        let body = json!({"client": format!("soak-{}", clients[c]), "seq": seq[c], "bpm": 72});
                        worker.beats += 1;
                        agent
                            .post(format!("{base}/api/beat"))
                            .header("content-type", "application/json")
                            .send(body.to_string())
                    } else {
                        agent.get(format!("{base}{}", PATHS[i % PATHS.len()])).call()
                    };
                    match result {
                        Ok(mut response) => {
                            let status = response.status().as_u16();
                            let _ = response.body_mut().read_to_vec();
                            if status >= 300 {
                                worker.errors.push(format!("status {status}"));
                            }
                        }
                        Err(e) => worker.errors.push(e.to_string()),
                    }
                    worker.latencies_us.push(began.elapsed().as_micros() as u64);
                    i += 1;
                }
                worker
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    let mut beats = 0;
    for worker in workers {
        let worker = worker
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
        latencies.extend(worker.latencies_us);
        errors.extend(worker.errors);
        beats += worker.beats;
    }
    let elapsed = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let rss_end = host.rss_mb();
    let fds_end = host.open_files();
    latencies.sort_unstable();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0)
    };
    let metrics = agent()
        .get(format!("{base}/metrics"))
        .call()?
        .body_mut()
        .read_to_string()?;
    let gauge = |prefix: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let tracked = gauge("heart_clients{");
    let rate_total = gauge("heart_rate_total");
    let expected_clients = options.clients.min(beats as usize) as f64;

    let requests = latencies.len();
    let report = json!({
        "seconds": elapsed,
        "connections": options.connections,
        "simulated_clients": options.clients,
        "requests": requests,
        "beats": beats,
        "req_per_s": requests as f64 / elapsed,
        "p50_ms": quantile(0.5) as f64 / 1000.0,
        "p99_ms": quantile(0.99) as f64 / 1000.0,
        "errors": errors.len(),
        "rss_mb": { "start": rss_start, "end": rss_end, "growth": (rss_end - rss_start) / rss_start },
        "fds": { "start": fds_start, "end": fds_end },
        "presence": { "tracked_clients": tracked, "expected_clients": expected_clients, "heart_rate_total": rate_total },
    });
    println!(
        "soak: {requests} requests in {elapsed:.1} s over {} connections",
        options.connections
    );
    println!(
        "  req/s {:.0}, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        requests as f64 / elapsed,
        quantile(0.5) as f64 / 1000.0,
        quantile(0.99) as f64 / 1000.0,
        errors.len()
    );
    println!(
        "  RSS {rss_start:.1} → {rss_end:.1} MB ({:+.1}%), open fds {fds_start} → {fds_end}",
        100.0 * (rss_end - rss_start) / rss_start
    );
    println!(
        "  presence: {tracked} clients tracked of {expected_clients} simulated; heart_rate_total {rate_total} of {beats} beats sent"
    );
    let out = target_dir().join("heart-soak.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("  wrote {}", out.display());
    if let Some(first) = errors.first() {
        bail!("{} request(s) failed; first: {first}", errors.len());
    }
    ensure!(
        tracked == expected_clients,
        "presence gauges count {tracked} clients, {expected_clients} were simulated"
    );
    ensure!(
        rate_total == beats as f64,
        "heart_rate_total {rate_total} != {beats} beats sent"
    );
    ensure!(
        fds_end <= fds_start + options.connections + 16,
        "open fds grew from {fds_start} to {fds_end}"
    );
    Ok(())
}

//! Load from wrk on core 1 (`taskset`) against a server on core 0: one run's figures, and
//! scenarios loaded in interleaved rounds.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::stats::median;
use crate::host_process::ServerProcess;

/// One wrk run.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Load {
    pub(super) rps: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) rss_mb: f64,
}

impl Load {
    pub(super) fn json(self) -> Value {
        json!({ "rps": self.rps, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "rss_mb_under_load": self.rss_mb })
    }
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
pub(super) fn spawn_wrk(url: &str, connections: usize, seconds: u64) -> Result<Child> {
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
pub(super) fn wrk_report(wrk: Child, url: &str) -> Result<Load> {
    let output = wrk.wait_with_output()?;
    parse_wrk(&String::from_utf8_lossy(&output.stdout)).with_context(|| format!("loading {url}"))
}

/// Loads `url` with wrk on core 1 for `seconds`, sampling the server's RSS half-way.
fn load(server: &ServerProcess, path: &str, seconds: u64) -> Result<Load> {
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

/// Loads each `(server, path)` scenario in turn, once per round (after one unrecorded second
/// each to warm up), so that the machine's slow and fast spells fall on every scenario alike.
pub(super) fn interleaved(
    servers: &[ServerProcess],
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
pub(super) fn summary(runs: &[Load]) -> Load {
    let of = |figure: fn(&Load) -> f64| median(runs.iter().map(figure).collect());
    Load {
        rps: of(|l| l.rps),
        p50_ms: of(|l| l.p50_ms),
        p99_ms: of(|l| l.p99_ms),
        rss_mb: of(|l| l.rss_mb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_summary_takes_each_figures_median() {
        let runs: Vec<Load> = [6.0, 1.0, 4.0]
            .map(|rps| Load {
                rps,
                ..Load::default()
            })
            .into();
        assert_eq!(summary(&runs).rps, 4.0);
    }
}

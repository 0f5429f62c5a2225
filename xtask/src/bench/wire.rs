//! `cargo xtask bench-wire`: what the wire costs per `/heart.svg`, one heart-host (instance
//! reuse, core 0) loaded by `h2load` (core 1) in interleaved rounds:
//!
//! - compression: HTTP/1.1 with `Accept-Encoding` identity, gzip and as a browser asks — the
//!   server's CPU per request (its `/proc` CPU time over the requests served) and the bytes per
//!   answer;
//! - HTTP/2 vs HTTP/1.1: the same 16 clients, one request at a time each, over h2c (prior
//!   knowledge) and HTTP/1.1; and 16 streams multiplexed on one h2c connection;
//! - traces: a second heart-host exporting every request's spans over OTLP/HTTP to a sink
//!   collector (Python's own HTTP server, core 1), against the first with traces off — the
//!   export thread's CPU is the server's, so it is in the figure.
//!
//! One load tool for both protocols, so the comparison is the server's. Figures are medians
//! over the rounds; each ratio the median of per-round ratios against HTTP/1.1 identity.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::run::require;
use super::servers::{start_host, start_host_with};
use super::stats::median;
use crate::build::target_dir;
use crate::cmd::root;
use crate::host_process::{ServerProcess, free_port};

/// A load scenario: its name, h2load's protocol and connection flags, `Accept-Encoding`, and
/// whether the server exports traces.
struct Scenario {
    name: &'static str,
    flags: &'static [&'static str],
    accept_encoding: &'static str,
    traced: bool,
}

const SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "HTTP/1.1, identity (baseline)",
        flags: &["--h1", "-c16", "-m1"],
        accept_encoding: "identity",
        traced: false,
    },
    Scenario {
        name: "HTTP/1.1, gzip",
        flags: &["--h1", "-c16", "-m1"],
        accept_encoding: "gzip",
        traced: false,
    },
    Scenario {
        name: "HTTP/1.1, as a browser asks (gzip, deflate, br, zstd)",
        flags: &["--h1", "-c16", "-m1"],
        accept_encoding: "gzip, deflate, br, zstd",
        traced: false,
    },
    Scenario {
        name: "h2c, 16 connections × 1 stream, identity",
        flags: &["-c16", "-m1"],
        accept_encoding: "identity",
        traced: false,
    },
    Scenario {
        name: "h2c, 1 connection × 16 streams, identity",
        flags: &["-c1", "-m16"],
        accept_encoding: "identity",
        traced: false,
    },
    Scenario {
        name: "HTTP/1.1, identity, traces exported (OTLP/HTTP)",
        flags: &["--h1", "-c16", "-m1"],
        accept_encoding: "identity",
        traced: true,
    },
];

/// The traced scenario's index, for the summary.
const TRACED: usize = 5;

/// A collector that takes every OTLP/HTTP export and answers 200 (Python's HTTP server), with
/// its port as its argument.
const SINK: &str = r#"
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    do_POST = answer
    do_GET = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
"#;

/// Starts the sink collector on core 1.
fn start_sink() -> Result<ServerProcess> {
    let port = free_port()?.to_string();
    let mut command = Command::new("taskset");
    command.args(["-c", "1", "python3", "-c", SINK, &port]);
    ServerProcess::at(
        command,
        format!("http://127.0.0.1:{port}"),
        Duration::from_secs(10),
    )
}

/// One scenario's run.
#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    /// Server CPU time per request, µs.
    cpu_us: f64,
    /// Bytes on the wire per answer (headers and body, as h2load counts them).
    bytes: f64,
}

/// What one h2load report says: requests/s, requests succeeded, total bytes.
fn parse_h2load(report: &str) -> Result<(f64, f64, f64)> {
    let line = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .with_context(|| format!("no `{prefix}` line in h2load's report:\n{report}"))
    };
    let finished = line("finished in")?;
    let rps: f64 = finished
        .split(", ")
        .nth(1)
        .and_then(|f| f.strip_suffix(" req/s"))
        .and_then(|f| f.parse().ok())
        .with_context(|| format!("no req/s in `{finished}`"))?;
    let requests = line("requests:")?;
    let succeeded: f64 = requests
        .split(", ")
        .find_map(|f| f.strip_suffix(" succeeded"))
        .and_then(|f| f.parse().ok())
        .with_context(|| format!("no succeeded count in `{requests}`"))?;
    if !requests.contains(" 0 failed, 0 errored") {
        bail!("the load run had failures: {requests}");
    }
    let traffic = line("traffic:")?;
    let total: f64 = traffic
        .split(['(', ')'])
        .nth(1)
        .and_then(|f| f.parse().ok())
        .with_context(|| format!("no byte count in `{traffic}`"))?;
    Ok((rps, succeeded, total))
}

fn load(server: &ServerProcess, scenario: &Scenario, seconds: u64) -> Result<Run> {
    let cpu = || heart_testing::process::cpu_seconds(server.pid()).context("the server's CPU time");
    let before = cpu()?;
    let output = Command::new("taskset")
        .args(["-c", "1", "h2load", "-t1"])
        .args(scenario.flags)
        .arg(format!("--duration={seconds}"))
        .arg("-H")
        .arg(format!("accept-encoding: {}", scenario.accept_encoding))
        .arg(format!("{}/heart.svg", server.base))
        .output()
        .context("running h2load")?;
    let used = cpu()? - before;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("h2load failed:\n{report}");
    }
    let (rps, requests, bytes) = parse_h2load(&report)?;
    let run = Run {
        rps,
        cpu_us: used / requests * 1e6,
        bytes: bytes / requests,
    };
    eprintln!(
        "    {}: {:.0} req/s, {:.1} µs CPU, {:.0} B per answer",
        scenario.name, run.rps, run.cpu_us, run.bytes
    );
    Ok(run)
}

/// The traced server's spans exported, dropped and failed.
fn span_outcomes(server: &ServerProcess) -> Result<[f64; 3]> {
    let scrape = ureq::get(format!("{}/metrics", server.base))
        .call()?
        .body_mut()
        .read_to_string()?;
    Ok(["exported", "dropped", "failed"].map(|outcome| {
        heart_testing::metric(&scrape, "heart_trace_spans_total", &[("outcome", outcome)])
            .unwrap_or(f64::NAN)
    }))
}

/// Runs the scenarios in interleaved rounds and prints the table.
pub fn bench_wire(seconds: u64, rounds: usize) -> Result<()> {
    require("h2load", "nghttp2-client")?;
    require("taskset", "util-linux")?;
    crate::build::all()?;
    let host = crate::build::release_host(&["--features", "native-baseline"])?;
    let args = ["--no-cache", "--instance-reuse", "1000"];
    let server = start_host(&host, &root().join("spin.toml"), &args)?;
    let sink = start_sink()?;
    let traced = start_host_with(
        &host,
        &root().join("spin.toml"),
        &args,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &sink.base)],
    )?;
    let serving = |scenario: &Scenario| if scenario.traced { &traced } else { &server };
    for scenario in &SCENARIOS {
        load(serving(scenario), scenario, 1)?;
    }
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); SCENARIOS.len()];
    for round in 1..=rounds.max(1) {
        eprintln!("  round {round}");
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            runs[i].push(load(serving(scenario), scenario, seconds)?);
        }
    }
    let spans = span_outcomes(&traced)?;
    drop((server, traced, sink));
    let of = |i: usize, figure: fn(&Run) -> f64| median(runs[i].iter().map(figure).collect());
    let ratio = |i: usize, figure: fn(&Run) -> f64| {
        median(
            runs[i]
                .iter()
                .zip(&runs[0])
                .map(|(a, b)| figure(a) / figure(b))
                .collect(),
        )
    };
    println!(
        "\n/heart.svg, heart-host with instance reuse; h2load; {rounds} rounds of {seconds} s, interleaved; medians."
    );
    println!(
        "| scenario | req/s | × baseline | server CPU µs/request | × baseline | bytes/answer |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut report = serde_json::Map::new();
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let (rps, cpu, bytes) = (of(i, |r| r.rps), of(i, |r| r.cpu_us), of(i, |r| r.bytes));
        let (rps_ratio, cpu_ratio) = (ratio(i, |r| r.rps), ratio(i, |r| r.cpu_us));
        println!(
            "| {} | {rps:.0} | {rps_ratio:.2}× | {cpu:.1} | {cpu_ratio:.2}× | {bytes:.0} |",
            scenario.name
        );
        report.insert(
            scenario.name.into(),
            json!({ "rps": rps, "rps_ratio": rps_ratio, "cpu_us": cpu, "cpu_ratio": cpu_ratio, "bytes": bytes }),
        );
    }
    let cost = |i: usize| of(i, |r| r.cpu_us) - of(0, |r| r.cpu_us);
    println!(
        "compressing a frame costs {:.1} µs CPU (gzip) / {:.1} µs (a browser's field) over identity; it sends {:.0} / {:.0} instead of {:.0} bytes",
        cost(1),
        cost(2),
        of(1, |r| r.bytes),
        of(2, |r| r.bytes),
        of(0, |r| r.bytes)
    );
    println!(
        "exporting a request's spans costs {:.1} µs CPU over traces off ({:.2}×); spans exported {:.0}, dropped {:.0}, failed {:.0}",
        cost(TRACED),
        ratio(TRACED, |r| r.cpu_us),
        spans[0],
        spans[1],
        spans[2]
    );
    report.insert(
        "spans".into(),
        json!({ "exported": spans[0], "dropped": spans[1], "failed": spans[2] }),
    );
    let out = target_dir().join("heart-bench-wire.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("JSON: {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_h2load;

    #[test]
    fn an_h2load_report_parses_and_failures_are_refused() {
        let report = "finished in 4.00s, 9123.40 req/s, 5.12MB/s\nrequests: 36493 total, 36493 started, 36493 done, 36493 succeeded, 0 failed, 0 errored, 0 timeout\nstatus codes: 36493 2xx, 0 3xx, 0 4xx, 0 5xx\ntraffic: 20.48MB (21474836) total, 1.23MB (1289748) headers (space savings 0.00%), 19.00MB (19922944) data\n";
        let (rps, requests, bytes) = parse_h2load(report).expect("parses");
        assert_eq!((rps, requests, bytes), (9123.40, 36493.0, 21_474_836.0));
        let failed = report.replace(" 0 failed", " 3 failed");
        assert!(parse_h2load(&failed).is_err());
    }
}

//! `cargo xtask bench --explain`: where one `/heart.svg` request's CPU goes — the native route,
//! a fresh instance per request and a reused instance side by side, each line measured.
//!
//! - **CPU per request**, twice per scenario: under `wrk -t1 -c16` (core 1) against the server
//!   (core 0), the server's CPU time (`/proc/PID/stat`) over the requests it counted
//!   (`heart_http_requests_total`) in the same window — once alone, once while `perf` samples it.
//! - **The lines** ([`profile`](super::profile)): the samples `perf record` took in that second
//!   window, each on the first line its call stack matches, in µs per request (the samples'
//!   CPU over the requests served from the first sample to the last, at the window's rate).
//!   Their sum is checked against the CPU the kernel counted per request in the window (±10 %).
//! - **Counts** from single requests: the guest's calls into the host (`Server-Timing`
//!   `host-calls`, from a host started with `HEART_HOST_COUNT_HOST_CALLS`), instantiation and
//!   guest time (`Server-Timing`; a fresh instance's guest time over a reused one's is the
//!   guest's start-up work) and the guest memory a request dirties (the pooling allocator's
//!   resident bytes after a fresh instance's slot was reset, `heart_wasm_pool_resident_bytes`).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::profile::{self, OTHER, Profile};
use super::run::require;
use super::servers::start_host_with;
use super::stats::median;
use super::wrk::spawn_wrk;
use crate::build::target_dir;
use crate::cmd::root;
use crate::host_process::ServerProcess;

/// Load before any measuring starts (connections open, caches and slots warm).
const WARM_UP: Duration = Duration::from_secs(1);
/// Single requests per count.
const SINGLE_REQUESTS: usize = 9;

/// One scenario's figures.
struct Account {
    /// CPU µs per request with nothing watching.
    plain_us: f64,
    /// CPU µs per request while perf sampled (the kernel's count).
    sampled_us: f64,
    /// The samples; requests per second while they were taken.
    profile: Profile,
    rate: f64,
}

impl Account {
    fn line_us(&self, line: &str) -> f64 {
        let samples = self.profile.lines.get(line).copied().unwrap_or(0);
        self.profile.micros(samples, self.rate)
    }

    fn total_us(&self) -> f64 {
        self.profile.micros(self.profile.total, self.rate)
    }
}

/// Runs the account and prints it.
pub fn explain(seconds: u64) -> Result<()> {
    require("wrk", "wrk")?;
    require("taskset", "util-linux")?;
    require("perf", "linux-perf")?;
    crate::build::all()?;
    let host = crate::build::release_host(&["--features", "native-baseline"])?;
    let manifest = root().join("spin.toml");
    let perfmap = [("HEART_HOST_PERFMAP", "1")];
    let counting = [("HEART_HOST_COUNT_HOST_CALLS", "1")];
    let reuse = ["--no-cache", "--instance-reuse", "1000"];
    let fresh_server = start_host_with(&host, &manifest, &["--no-cache"], &perfmap)?;
    let reused_server = start_host_with(&host, &manifest, &reuse, &perfmap)?;
    let work = tempfile::tempdir()?;

    eprintln!("\n==> where /heart.svg's CPU goes: {seconds} s per window, wrk -t1 -c16 on core 1");
    let scenarios = [
        ("native", &fresh_server, "/native/heart.svg"),
        ("fresh", &fresh_server, "/heart.svg"),
        ("reused", &reused_server, "/heart.svg"),
    ];
    let mut accounts = Vec::new();
    for (name, server, path) in scenarios {
        let account = measure(
            server,
            path,
            seconds,
            &work.path().join(format!("{name}.data")),
        )?;
        eprintln!(
            "    {name}: {:.1} µs CPU per request alone, {:.1} µs while sampled ({:.0} req/s), {} samples",
            account.plain_us, account.sampled_us, account.rate, account.profile.total
        );
        accounts.push((name, account));
    }
    for server in [&fresh_server, &reused_server] {
        let _ = std::fs::remove_file(format!("/tmp/perf-{}.map", server.pid()));
    }
    drop((fresh_server, reused_server));

    eprintln!("\n==> counts from single requests");
    let count_fresh = start_host_with(&host, &manifest, &["--no-cache"], &counting)?;
    let count_reused = start_host_with(&host, &manifest, &reuse, &counting)?;
    let fresh = singles(&count_fresh, "/heart.svg")?;
    let _ = get(&count_reused, "/heart.svg")?; // the instance's first request
    let reused = singles(&count_reused, "/heart.svg")?;
    let dirtied = dirtied_bytes(&count_fresh, "/heart.svg")?;
    drop((count_fresh, count_reused));

    print_table(&accounts, &fresh, &reused, dirtied);
    let report = json!({
        "load": "wrk -t1 -c16 (core 1), server on core 0",
        "seconds": seconds,
        "sampling_hz": profile::FREQUENCY,
        "scenarios": accounts.iter().map(|(name, a)| (name.to_string(), json!({
            "cpu_us_per_request": a.plain_us,
            "cpu_us_per_request_sampled": a.sampled_us,
            "sampled_rps": a.rate,
            "lines_us": profile::line_names().into_iter().map(|l| (l.to_owned(), json!(a.line_us(l)))).collect::<serde_json::Map<_, _>>(),
            "host_call_interfaces_samples": a.profile.interfaces,
        }))).collect::<serde_json::Map<_, _>>(),
        "single_requests": {
            "fresh": fresh.json(), "reused": reused.json(), "dirtied_bytes": dirtied,
        },
    });
    let out = target_dir().join("heart-explain.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("JSON: {}", out.display());
    let off: Vec<_> = accounts
        .iter()
        .filter(|(_, a)| (a.total_us() / a.sampled_us - 1.0).abs() > 0.10)
        .map(|(name, a)| format!("{name} ({:.1} vs {:.1} µs)", a.total_us(), a.sampled_us))
        .collect();
    if !off.is_empty() {
        bail!(
            "the lines do not add up to the CPU counted within 10 %: {}",
            off.join(", ")
        );
    }
    Ok(())
}

/// CPU seconds of `server` and the requests it has counted, now.
fn reading(server: &ServerProcess) -> Result<(f64, f64)> {
    let cpu = heart_testing::process::cpu_seconds(server.pid()).context("the server is gone")?;
    Ok((cpu, served(&scrape(server)?)))
}

/// `server`'s `/metrics`.
fn scrape(server: &ServerProcess) -> Result<String> {
    Ok(ureq::get(format!("{}/metrics", server.base))
        .call()?
        .body_mut()
        .read_to_string()?)
}

/// Requests in `heart_http_requests_total` other than the scrapes.
fn served(scrape: &str) -> f64 {
    scrape
        .lines()
        .filter(|l| {
            l.starts_with("heart_http_requests_total{") && !l.contains("route=\"/metrics\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Loads `path` and measures a window alone, then one under perf.
fn measure(
    server: &ServerProcess,
    path: &str,
    seconds: u64,
    data: &std::path::Path,
) -> Result<Account> {
    let url = format!("{}{path}", server.base);
    let window = Duration::from_secs(seconds);
    let wrk = spawn_wrk(&url, 16, 2 * seconds + 3)?;
    std::thread::sleep(WARM_UP);
    let (cpu0, req0) = reading(server)?;
    std::thread::sleep(window);
    let (cpu1, req1) = reading(server)?;
    let started = std::time::Instant::now();
    profile::record(server.pid(), window.as_secs_f64(), data)?;
    let (cpu2, req2) = reading(server)?;
    let wall = started.elapsed().as_secs_f64();
    wrk.wait_with_output()?;
    let profile = profile::read(data)?;
    let _ = std::fs::remove_file(data);
    let requests = req2 - req1;
    if req1 - req0 < 1.0 || requests < 1.0 {
        bail!("{url}: no requests were served under load");
    }
    Ok(Account {
        plain_us: (cpu1 - cpu0) / (req1 - req0) * 1e6,
        sampled_us: (cpu2 - cpu1) / requests * 1e6,
        profile,
        rate: requests / wall,
    })
}

/// `Server-Timing` of one `GET path`: (instantiate ms, guest ms, host calls).
fn get(server: &ServerProcess, path: &str) -> Result<(Option<f64>, f64, f64)> {
    let response = ureq::get(format!("{}{path}", server.base)).call()?;
    let header = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .context("no Server-Timing")?
        .to_owned();
    let metrics = heart_testing::server_timing(&header);
    let field = |name: &str| {
        metrics
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, value)| value.parse::<f64>().ok())
    };
    Ok((
        field("instantiate"),
        field("guest").context("no guest time")?,
        field("host-calls").context("no host-calls (HEART_HOST_COUNT_HOST_CALLS)")?,
    ))
}

/// Medians over single requests.
struct Singles {
    instantiate_us: f64,
    guest_us: f64,
    host_calls: f64,
}

impl Singles {
    fn json(&self) -> serde_json::Value {
        json!({ "instantiate_us": self.instantiate_us, "guest_us": self.guest_us, "host_calls": self.host_calls })
    }
}

fn singles(server: &ServerProcess, path: &str) -> Result<Singles> {
    let mut figures = Vec::new();
    for _ in 0..SINGLE_REQUESTS {
        figures.push(get(server, path)?);
    }
    Ok(Singles {
        instantiate_us: median(figures.iter().filter_map(|f| f.0).collect()) * 1000.0,
        guest_us: median(figures.iter().map(|f| f.1).collect()) * 1000.0,
        host_calls: median(figures.iter().map(|f| f.2).collect()),
    })
}

/// The guest memory one fresh `GET path` dirtied: the pool's resident bytes right after, the
/// median of a few (each fresh request's slot is the warm one the last used, so the figure is
/// one request's).
fn dirtied_bytes(server: &ServerProcess, path: &str) -> Result<f64> {
    let mut bytes = Vec::new();
    for _ in 0..SINGLE_REQUESTS {
        get(server, path)?;
        let value = heart_testing::metric(&scrape(server)?, "heart_wasm_pool_resident_bytes", &[])
            .context("no heart_wasm_pool_resident_bytes")?;
        bytes.push(value);
    }
    Ok(median(bytes))
}

fn print_table(accounts: &[(&str, Account)], fresh: &Singles, reused: &Singles, dirtied: f64) {
    let header: Vec<_> = accounts.iter().map(|(name, _)| *name).collect();
    println!(
        "\nCPU per /heart.svg request, µs (perf samples at {} Hz over the requests served while sampling)",
        profile::FREQUENCY
    );
    println!("| line | {} |", header.join(" | "));
    println!("| --- |{}", " ---: |".repeat(header.len()));
    let row = |name: &str, value: &dyn Fn(&Account) -> String| {
        let cells: Vec<_> = accounts.iter().map(|(_, a)| value(a)).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    for line in profile::line_names() {
        if accounts.iter().all(|(_, a)| a.line_us(line) < 0.05) && line != OTHER {
            continue;
        }
        row(line, &|a| format!("{:.1}", a.line_us(line)));
    }
    row("**sum of the lines**", &|a| {
        format!("**{:.1}**", a.total_us())
    });
    row("CPU counted by the kernel, same window", &|a| {
        format!(
            "{:.1} ({:+.0} %)",
            a.sampled_us,
            (a.total_us() / a.sampled_us - 1.0) * 100.0
        )
    });
    row("CPU per request without perf", &|a| {
        format!("{:.1}", a.plain_us)
    });
    println!();
    for (name, account) in accounts {
        if account.profile.interfaces.is_empty() {
            continue;
        }
        let parts: Vec<_> = account
            .profile
            .interfaces
            .iter()
            .map(|(interface, samples)| {
                format!(
                    "{interface} {:.1}",
                    account.profile.micros(*samples, account.rate)
                )
            })
            .collect();
        println!("host calls by interface, {name} (µs): {}", parts.join(", "));
    }
    println!(
        "single requests (medians of {SINGLE_REQUESTS}, Server-Timing): fresh instantiate {:.0} µs, guest {:.0} µs, {} host calls; reused guest {:.0} µs, {} host calls; the guest's start-up work ≈ {:.0} µs",
        fresh.instantiate_us,
        fresh.guest_us,
        fresh.host_calls,
        reused.guest_us,
        reused.host_calls,
        fresh.guest_us - reused.guest_us
    );
    println!(
        "guest memory a fresh request dirties (kept resident and reset with its slot): {:.0} KiB ({:.0} pages)",
        dirtied / 1024.0,
        dirtied / 4096.0
    );
}

#[cfg(test)]
mod tests {
    use super::served;

    #[test]
    fn served_requests_leave_out_the_scrapes() {
        let scrape = "\
heart_http_requests_total{namespace=\"default\",route=\"/...\",status=\"200\"} 120
heart_http_requests_total{namespace=\"default\",route=\"/metrics\",status=\"200\"} 7
heart_http_requests_total{namespace=\"default\",route=\"other\",status=\"404\"} 3
heart_http_request_duration_seconds_count{route=\"/...\"} 120
";
        assert_eq!(served(scrape), 123.0);
    }
}

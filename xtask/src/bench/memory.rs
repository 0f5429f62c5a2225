//! Memory after a burst: heart-host (default flags) under steady JSON load, a burst of large
//! PNG renders on top of it, and where its RSS settles afterwards. The goal is RSS back within
//! 1.5× the steady figure [`SETTLE`] after the burst.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};

use super::servers::start_host;
use super::stats::median;
use super::wrk::{spawn_wrk, wrk_report};
use crate::host_process::ServerProcess;

/// Steady load before the burst (the first [`WARM_UP`] of it is not sampled).
const STEADY: Duration = Duration::from_secs(8);
/// Left out of the steady figure while the pool warms.
const WARM_UP: Duration = Duration::from_secs(2);
/// The burst.
const BURST: Duration = Duration::from_secs(8);
/// How long after the burst the settled figure is read.
pub const SETTLE: Duration = Duration::from_secs(10);
/// Connections of the steady load and, separately, of the burst.
const CONNECTIONS: usize = 32;
/// How often RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// The steady load's path.
const STEADY_PATH: &str = "/heart.json";
/// The burst's path: the largest PNG a request may ask for.
const BURST_PATH: &str = "/heart.png?size=1024";

/// RSS figures of one run, in MB.
#[derive(Debug, Clone, Copy)]
pub struct AfterBurst {
    /// Median under the steady load alone.
    pub steady_mb: f64,
    /// Highest during the burst.
    pub peak_mb: f64,
    /// [`SETTLE`] after the burst, the steady load still running.
    pub after_mb: f64,
}

impl AfterBurst {
    /// After over steady: the goal is ≤ 1.5.
    pub fn ratio(&self) -> f64 {
        self.after_mb / self.steady_mb
    }

    /// The figures as JSON.
    pub fn json(&self) -> Value {
        json!({
            "steady_mb": self.steady_mb, "peak_mb": self.peak_mb, "after_mb": self.after_mb,
            "after_over_steady": self.ratio(), "settle_s": SETTLE.as_secs(),
            "steady": format!("{STEADY_PATH}, {CONNECTIONS} connections"),
            "burst": format!("{BURST_PATH}, {CONNECTIONS} connections, {} s", BURST.as_secs()),
        })
    }
}

/// RSS samples of `server` every [`SAMPLE_EVERY`] for `span`.
fn samples(server: &ServerProcess, span: Duration) -> Vec<f64> {
    let started = Instant::now();
    let mut taken = Vec::new();
    while started.elapsed() < span {
        taken.push(server.rss_mb());
        std::thread::sleep(SAMPLE_EVERY);
    }
    taken
}

/// Runs the steady load, the burst on top and the settling, and reads RSS throughout.
pub fn after_burst(host: &Path, manifest: &Path) -> Result<AfterBurst> {
    let server = start_host(host, manifest, &[])?;
    let total = STEADY + BURST + SETTLE + Duration::from_secs(1);
    let steady_url = format!("{}{STEADY_PATH}", server.base);
    let steady = spawn_wrk(&steady_url, CONNECTIONS, total.as_secs())?;
    std::thread::sleep(WARM_UP);
    let steady_mb = median(samples(&server, STEADY - WARM_UP));
    let burst_url = format!("{}{BURST_PATH}", server.base);
    let burst = spawn_wrk(&burst_url, CONNECTIONS, BURST.as_secs())?;
    let peak_mb = samples(&server, BURST)
        .into_iter()
        .fold(steady_mb, f64::max);
    // The burst is over once its wrk has reported.
    let burst_load = wrk_report(burst, &burst_url)?;
    std::thread::sleep(SETTLE);
    let after_mb = server.rss_mb();
    let steady_load = wrk_report(steady, &steady_url)?;
    eprintln!(
        "    steady {STEADY_PATH}: {:.0} req/s; burst {BURST_PATH}: {:.0} req/s",
        steady_load.rps, burst_load.rps
    );
    let figures = AfterBurst {
        steady_mb,
        peak_mb,
        after_mb,
    };
    eprintln!(
        "    RSS steady {:.1} MB, peak {:.1} MB, {} s after {:.1} MB ({:.2}× steady)",
        figures.steady_mb,
        figures.peak_mb,
        SETTLE.as_secs(),
        figures.after_mb,
        figures.ratio()
    );
    Ok(figures)
}

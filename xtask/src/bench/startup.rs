//! Start-up figures: exec → first 200 with and without the compile cache, and the resident
//! memory of a host at rest.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::servers::start_host;
use super::stats::median;

/// RSS of a host started with `extra`, read once one reclaim interval has passed since it
/// answered.
pub(super) fn idle_after_start(host: &Path, manifest: &Path, extra: &[&str]) -> Result<f64> {
    let server = start_host(host, manifest, extra)?;
    std::thread::sleep(Duration::from_secs(3));
    Ok(server.rss_mb())
}

/// Times exec → first 200 `runs` times.
pub(super) fn cold_starts(
    host: &Path,
    manifest: &Path,
    cache: Option<&Path>,
    runs: usize,
) -> Result<f64> {
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

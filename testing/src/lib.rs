//! What heart-display's integration tests and benchmarks share, whichever crate they test:
//!
//! - [`root`]: the workspace root (where `dist/` is);
//! - [`wait_until`]: a wait on a condition, never a fixed sleep;
//! - [`metric`]: one sample from a Prometheus text scrape;
//! - [`signal`]: a signal to a process the test started;
//! - [`listening_url`]: heart-host's address, from the line it prints once it listens;
//! - [`golden`]: outputs compared with their checked-in snapshots;
//! - [`containerd`]: a private containerd with the heart shim on its PATH;
//! - [`process`]: memory figures and process trees from `/proc`;
//! - [`cri`] (feature `cri`): the kubelet's side of a node, over containerd's CRI.

pub mod containerd;
#[cfg(feature = "cri")]
pub mod cri;
pub mod golden;
pub mod process;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root. `cargo test` names the tested crate's directory at run time (every crate
/// is one level below the root); the compile-time path is only a fallback, because a test
/// binary shared through one target directory may have been compiled in another checkout.
pub fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("every crate is one level below the workspace root")
        .to_owned()
}

/// Polls `condition` every 10 ms until it holds; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The value of the first sample called `name` whose labels include all of `labels`, from a
/// Prometheus text scrape (label order does not matter).
pub fn metric(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, label_text) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if series_name != name {
                return None;
            }
            let found: Vec<(&str, &str)> = label_text
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.split_once("=\""))
                .map(|(k, v)| (k.trim_start_matches(','), v.trim_end_matches('"')))
                .collect();
            labels
                .iter()
                .all(|l| found.contains(l))
                .then(|| value.parse().ok())
                .flatten()
        })
}

/// The start of the line heart-host prints once it is listening, followed by its URL.
pub const LISTENING: &str = "heart-host listening on ";

/// The base URL (no trailing `/`) in heart-host's "listening on" line, or `None` for any
/// other line.
pub fn listening_url(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix(LISTENING)
        .map(|url| url.trim_end_matches('/'))
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: i32) {
    let pid = i32::try_from(pid).expect("pids fit in i32");
    // SAFETY: kill(2) with a pid we spawned and a valid signal number has no memory effects.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::{listening_url, metric};

    #[test]
    fn the_listening_line_gives_the_base_url() {
        let line = "heart-host listening on http://127.0.0.1:4321/\n";
        assert_eq!(listening_url(line), Some("http://127.0.0.1:4321"));
        assert_eq!(listening_url("building heart-host\n"), None);
    }

    #[test]
    fn a_sample_is_found_by_name_and_a_subset_of_its_labels() {
        let scrape = "# HELP x\nx_total{a=\"1\",b=\"2\"} 3\nx_total{a=\"9\"} 4\ny 5\n";
        assert_eq!(metric(scrape, "x_total", &[("b", "2")]), Some(3.0));
        assert_eq!(metric(scrape, "x_total", &[("a", "9")]), Some(4.0));
        assert_eq!(metric(scrape, "y", &[]), Some(5.0));
        assert_eq!(metric(scrape, "x_total", &[("a", "2")]), None);
    }
}

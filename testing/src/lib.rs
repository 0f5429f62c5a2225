//! What heart-display's integration tests and benchmarks share, whichever crate they test:
//!
//! - [`root`]: the workspace root (where `dist/` is);
//! - [`wait_until`]: a wait on a condition, never a fixed sleep;
//! - [`metric`]: one sample from a Prometheus text scrape;
//! - [`child`]: a process the test started, stopped by its PID whatever happens (SIGTERM,
//!   then SIGKILL), and heart-host's address from the line it prints once it listens;
//! - [`golden`]: outputs compared with their checked-in snapshots;
//! - [`keep_alive`]: one HTTP/1.1 connection reused for every request;
//! - [`containerd`]: a private containerd with the heart shim on its PATH;
//! - [`process`]: memory figures and process trees from `/proc`;
//! - [`otlp`] (feature `otlp`): an OTLP/HTTP trace collector decoding the official protobuf;
//! - [`kube_api`] (feature `kube-api`): the Kubernetes API's node-label call over HTTPS;
//! - [`cri`] (feature `cri`): the kubelet's side of a node, over containerd's CRI (feature
//!   `pod-plan`: only its pod-template reader, for the fuzz targets).

pub mod child;
pub mod containerd;
#[cfg(feature = "pod-plan")]
pub mod cri;
pub mod golden;
pub mod keep_alive;
#[cfg(feature = "kube-api")]
pub mod kube_api;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod process;

pub use child::{LISTENING, Running, is_root, listening_url, read_listening_url};

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

/// The metrics of a `Server-Timing` header value, in order: each name with its `dur` or `desc`
/// (unquoted), or an empty value where it has neither.
pub fn server_timing(header: &str) -> Vec<(String, String)> {
    header
        .split(", ")
        .map(|metric| {
            let (name, param) = metric.split_once(';').unwrap_or((metric, ""));
            let value = param
                .strip_prefix("dur=")
                .or_else(|| param.strip_prefix("desc="))
                .unwrap_or(param)
                .trim_matches('"');
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// The value of the first sample called `name` whose labels include all of `labels`, from a
/// Prometheus text scrape (label order does not matter; a value may hold any character the
/// format escapes). A scrape that does not parse fails the test, naming the problem.
pub fn metric(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    use prom_text_format_parser::{Scrape, Type, ValueType};
    let parsed = Scrape::parse(scrape)
        .unwrap_or_else(|e| panic!("the scrape is not the Prometheus text format: {e:?}"));
    // The parser keeps label values as written: escape the wanted ones the same way.
    let wanted: Vec<(&str, String)> = labels.iter().map(|(k, v)| (*k, escape(v))).collect();
    parsed.metrics.iter().find_map(|family| {
        family.samples.iter().find_map(|sample| {
            let suffix = match (family.kind, sample.value.value_type) {
                (Type::Histogram, ValueType::Sample) => "_bucket",
                (Type::Histogram | Type::Summary, ValueType::Sum) => "_sum",
                (Type::Histogram | Type::Summary, ValueType::Count) => "_count",
                _ => "",
            };
            let called = name.strip_prefix(family.name.as_str()) == Some(suffix);
            let has_labels = wanted.iter().all(|(key, value)| {
                sample
                    .labels
                    .iter()
                    .any(|l| l.key == *key && l.value == *value)
            });
            (called && has_labels).then(|| sample.value.value.parse().ok())?
        })
    })
}

/// A label value as the text format writes it (`\\`, `\"` and `\n` escaped).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::metric;

    #[test]
    fn a_sample_is_found_by_name_and_a_subset_of_its_labels() {
        let scrape = "# HELP x\nx_total{a=\"1\",b=\"2\"} 3\nx_total{a=\"9\"} 4\ny 5\n";
        assert_eq!(metric(scrape, "x_total", &[("b", "2")]), Some(3.0));
        assert_eq!(metric(scrape, "x_total", &[("a", "9")]), Some(4.0));
        assert_eq!(metric(scrape, "y", &[]), Some(5.0));
        assert_eq!(metric(scrape, "x_total", &[("a", "2")]), None);
    }

    #[test]
    fn label_values_may_hold_quotes_commas_and_braces() {
        let scrape = "# TYPE r counter\nr{path=\"/a\\\",b=\\\"c}\",code=\"200\"} 7\n\
                      # TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.5\nh_count 2\n";
        assert_eq!(
            metric(scrape, "r", &[("path", "/a\",b=\"c}"), ("code", "200")]),
            Some(7.0)
        );
        assert_eq!(metric(scrape, "r", &[("path", "/a")]), None);
        assert_eq!(metric(scrape, "h_count", &[]), Some(2.0));
        assert_eq!(metric(scrape, "h_sum", &[]), Some(0.5));
        assert_eq!(metric(scrape, "h", &[]), None);
    }

    #[test]
    #[should_panic(expected = "not the Prometheus text format")]
    fn a_scrape_that_does_not_parse_fails() {
        let _ = metric("x{a=\"1\" 2\n", "x", &[]);
    }
}

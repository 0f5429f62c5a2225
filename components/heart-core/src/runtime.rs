//! The runtime's own figures, as the component serving a frame knows them: its linear memory,
//! the requests its instance has served, the instance's age, the config generation it read and
//! the pod it runs in. Frames carry them (JSON `runtime`, SVG `<metadata>`, PNG `tEXt`) so a
//! client sees what the host did with its request: a fresh instance answers with `requests: 1`,
//! a reused one with more. Nothing here names the host's addresses, paths or secrets.
//!
//! The adapters measure (memory size, the clock); this module only counts and validates.

use std::time::Duration;

use serde::Serialize;

/// The wasi:config variable heart-host answers with the config generation an instance's
/// variables come from (1 at start, +1 per applied change). Other hosts leave it unset.
pub const CONFIG_GENERATION_VARIABLE: &str = "heart_config_generation";

/// The environment variable that names the pod (the Kubernetes downward API's
/// `metadata.name`).
pub const POD_NAME_VARIABLE: &str = "POD_NAME";

/// The figures one response carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeFigures {
    /// The instance's linear memory, in bytes.
    pub memory_bytes: u64,
    /// Requests this instance has served, this one included (1 for a fresh instance).
    pub requests: u64,
    /// Milliseconds since the instance served its first request (0 for a fresh instance).
    pub age_ms: f64,
    /// The config generation the instance read its variables from, where the host says.
    pub config_generation: Option<u64>,
    /// The pod the instance runs in, where the environment names it.
    pub pod: Option<PodName>,
}

impl RuntimeFigures {
    /// The figures as `(name, value)` pairs in a fixed order, for the SVG attributes and the
    /// PNG text chunks; unknown figures are left out.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("memory-bytes", self.memory_bytes.to_string()),
            ("requests", self.requests.to_string()),
            ("age-ms", format!("{:.3}", self.age_ms)),
        ];
        if let Some(generation) = self.config_generation {
            fields.push(("config-generation", generation.to_string()));
        }
        if let Some(pod) = &self.pod {
            fields.push(("pod", pod.0.clone()));
        }
        fields
    }
}

/// A pod name as Kubernetes allows it (a DNS-1123 subdomain: at most 253 characters of
/// `a-z`, `0-9`, `-` and `.`), so it can go in any output format unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PodName(String);

/// Why a pod name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{POD_NAME_VARIABLE} `{0}` is not a pod name: expected 1 to 253 characters of a-z, 0-9, `-` and `.`"
)]
pub struct PodNameError(String);

impl PodName {
    /// Longest name accepted.
    pub const MAX_LEN: usize = 253;

    /// Validates `raw`.
    pub fn parse(raw: &str) -> Result<Self, PodNameError> {
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.chars().all(allowed) {
            return Err(PodNameError(crate::config::shown(raw)));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One instance's life as its adapter sees it: when it served its first request and how many
/// it has served. The caller passes the time, so this stays free of clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstanceLife<T> {
    first: Option<T>,
    requests: u64,
}

impl<T: Copy> InstanceLife<T> {
    /// A new instance's life: no request yet.
    pub const fn new() -> Self {
        Self {
            first: None,
            requests: 0,
        }
    }

    /// Counts a request that starts at `now` and returns the requests served (this one
    /// included) and the instance's age, `elapsed(first, now)`.
    pub fn serve(&mut self, now: T, elapsed: impl FnOnce(T, T) -> Duration) -> (u64, Duration) {
        self.requests += 1;
        let first = *self.first.get_or_insert(now);
        (self.requests, elapsed(first, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_names_are_dns_subdomains() {
        assert_eq!(
            PodName::parse("heart-display-0").map(|p| p.as_str().to_owned()),
            Ok("heart-display-0".to_owned())
        );
        for bad in ["", "Heart", "a b", "pod/1", "ü", &"a".repeat(254)] {
            let error = PodName::parse(bad).expect_err(bad).to_string();
            assert!(error.contains("POD_NAME"), "{error}");
            assert!(error.contains("1 to 253 characters"), "{error}");
        }
    }

    #[test]
    fn an_instance_counts_its_requests_and_ages_from_its_first() {
        let mut life = InstanceLife::<u64>::new();
        let millis = |a: u64, b: u64| Duration::from_millis(b - a);
        assert_eq!(life.serve(100, millis), (1, Duration::ZERO));
        assert_eq!(life.serve(130, millis), (2, Duration::from_millis(30)));
        assert_eq!(life.serve(400, millis), (3, Duration::from_millis(300)));
    }

    #[test]
    fn unknown_figures_are_left_out_of_the_fields() {
        let mut figures = RuntimeFigures {
            memory_bytes: 1_179_648,
            requests: 2,
            age_ms: 12.5,
            config_generation: None,
            pod: None,
        };
        let names = |f: &RuntimeFigures| f.fields().iter().map(|(n, _)| *n).collect::<Vec<_>>();
        assert_eq!(names(&figures), ["memory-bytes", "requests", "age-ms"]);
        figures.config_generation = Some(3);
        figures.pod = PodName::parse("heart-display-0").ok();
        assert_eq!(
            figures.fields(),
            [
                ("memory-bytes", "1179648".to_owned()),
                ("requests", "2".to_owned()),
                ("age-ms", "12.500".to_owned()),
                ("config-generation", "3".to_owned()),
                ("pod", "heart-display-0".to_owned()),
            ]
        );
    }
}

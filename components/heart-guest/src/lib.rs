//! What a heart-display component knows about its own instance, measured where it runs: its
//! linear memory, the requests it has served and its age (WASI's monotonic clock), and the pod
//! named by its environment. Both HTTP components (WASI 0.2 and 0.3) put these into the
//! frames they serve as [`RuntimeFigures`]; the config generation comes from their variables,
//! as does whether the host asks open streams to end ([`streams_closing`]).
#![deny(missing_docs)]

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

use heart_core::api::CLOSING_VARIABLE;
use heart_core::runtime::{CONFIG_GENERATION_VARIABLE, InstanceLife, POD_NAME_VARIABLE};
use heart_core::{PodName, RuntimeFigures};

/// This instance's requests and first-request time.
static LIFE: Mutex<InstanceLife<Instant>> = Mutex::new(InstanceLife::new());

/// Counts a request this instance serves. Every request counts, whether or not its answer
/// carries the figures.
pub fn request_started() -> (u64, std::time::Duration) {
    LIFE.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .serve(Instant::now(), |first, now| now.duration_since(first))
}

/// The figures for the request `started` counted ([`request_started`]), with the config
/// generation the instance's variables came from.
pub fn figures(
    started: (u64, std::time::Duration),
    config_generation: Option<u64>,
) -> RuntimeFigures {
    let (requests, age) = started;
    RuntimeFigures {
        memory_bytes: memory_bytes(),
        requests,
        age_ms: (age.as_secs_f64() * 1e6).round() / 1e3,
        config_generation,
        pod: pod().clone(),
    }
}

/// The config generation as `variable` (the component's variable lookup) gives it: `None`
/// where the host does not say, or says something that is not a generation.
pub fn config_generation(
    variable: impl FnOnce(&str) -> Result<Option<String>, String>,
) -> Option<u64> {
    match variable(CONFIG_GENERATION_VARIABLE) {
        Ok(Some(raw)) => raw.parse().ok(),
        Ok(None) | Err(_) => None,
    }
}

/// Whether the host asks open streams to end, as `variable` (the component's variable lookup)
/// says: only heart-host does, with `true` at shutdown.
pub fn streams_closing(variable: impl FnOnce(&str) -> Result<Option<String>, String>) -> bool {
    variable(CLOSING_VARIABLE).is_ok_and(|v| v.as_deref() == Some("true"))
}

/// One variable from the WASI environment, as a plain-WASI build reads it (`love_level` from
/// `HEART_LOVE_LEVEL`, [`heart_core::api::env_variable_name`]).
pub fn env_variable(name: &str) -> Result<Option<String>, String> {
    Ok(std::env::var(heart_core::api::env_variable_name(name)).ok())
}

/// Defines a component's two variable readers for the `wasi:config/store` bindings at the
/// given path (which differs between spin-sdk releases): `variable(name)`, one `get`, for what
/// must be read live (whether streams are closing), and `variables()`, every variable in one
/// `get-all` ([`Variables`]). With the component's `env-config` feature both read the
/// `HEART_*` environment variables instead ([`env_variable`], [`Variables::from_env`]).
#[macro_export]
macro_rules! variable_readers {
    ($($store:ident)::+) => {
        #[cfg(not(feature = "env-config"))]
        use $($store)::+ as store;

        /// The store's error as text.
        #[cfg(not(feature = "env-config"))]
        fn store_error(e: store::Error) -> String {
            match e {
                store::Error::Upstream(m) | store::Error::Io(m) => m,
            }
        }

        /// Reads one variable from `wasi:config/store`.
        #[cfg(not(feature = "env-config"))]
        fn variable(name: &str) -> Result<Option<String>, String> {
            store::get(name).map_err(store_error)
        }

        /// Every variable in one call (`get-all`).
        #[cfg(not(feature = "env-config"))]
        fn variables() -> $crate::Variables {
            $crate::Variables::new(store::get_all().map_err(store_error))
        }

        /// Reads one variable from the WASI environment.
        #[cfg(feature = "env-config")]
        fn variable(name: &str) -> Result<Option<String>, String> {
            $crate::env_variable(name)
        }

        /// Every variable from the WASI environment.
        #[cfg(feature = "env-config")]
        fn variables() -> $crate::Variables {
            $crate::Variables::from_env()
        }
    };
}

/// The app's variables as one snapshot, so reading the config costs one call into the host
/// (`wasi:config/store`'s `get-all`) where a `get` per variable costs six.
#[derive(Debug)]
pub struct Variables(Result<Vec<(String, String)>, String>);

impl Variables {
    /// The snapshot `all` (the store's answer, or why it could not answer).
    pub fn new(all: Result<Vec<(String, String)>, String>) -> Self {
        Self(all)
    }

    /// The variables a plain-WASI build reads from its environment (`HEART_LOVE_LEVEL` is
    /// `love_level`, [`heart_core::api::env_variable_name`]); entries that are not UTF-8 are
    /// not variables of ours and are skipped.
    pub fn from_env() -> Self {
        Self(Ok(std::env::vars_os()
            .filter_map(|(key, value)| {
                let (key, value) = (key.into_string().ok()?, value.into_string().ok()?);
                let name = key.strip_prefix("HEART_")?.to_ascii_lowercase();
                (heart_core::api::env_variable_name(&name) == key).then_some((name, value))
            })
            .collect()))
    }

    /// One variable, as a per-variable lookup answers: `None` where it is not set, the
    /// store's error for every variable where the snapshot could not be read.
    pub fn get(&self, name: &str) -> Result<Option<String>, String> {
        match &self.0 {
            Ok(all) => Ok(all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())),
            Err(e) => Err(e.clone()),
        }
    }
}

/// The pod name from the environment, read once; a value that is not a pod name is reported
/// on stderr and left out.
fn pod() -> &'static Option<PodName> {
    static POD: OnceLock<Option<PodName>> = OnceLock::new();
    POD.get_or_init(|| {
        let raw = std::env::var(POD_NAME_VARIABLE).ok()?;
        PodName::parse(&raw)
            .map_err(|e| eprintln!("runtime figures: {e}; leaving the pod out"))
            .ok()
    })
}

/// The instance's linear memory in bytes.
#[cfg(target_arch = "wasm32")]
fn memory_bytes() -> u64 {
    const PAGE: u64 = 64 * 1024;
    core::arch::wasm32::memory_size(0) as u64 * PAGE
}

/// Native builds (tests, clippy) have no linear memory to measure.
#[cfg(not(target_arch = "wasm32"))]
fn memory_bytes() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_answers_as_a_lookup_per_variable_would() {
        let all = Variables::new(Ok(vec![
            ("bpm".to_owned(), "90".to_owned()),
            ("color".to_owned(), "teal".to_owned()),
        ]));
        assert_eq!(all.get("bpm"), Ok(Some("90".to_owned())));
        assert_eq!(all.get("color"), Ok(Some("teal".to_owned())));
        assert_eq!(all.get("size"), Ok(None));
        let failed = Variables::new(Err("store down".to_owned()));
        assert_eq!(failed.get("bpm"), Err("store down".to_owned()));
    }
}

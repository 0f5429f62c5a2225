//! The host's settings, defined once for both ways in: `heart-host up`'s flags (each backed by
//! its `HEART_*` environment variable) and a container's environment under the containerd
//! shim. Each setting has its variable, its flag, its default and its accepted range here, and
//! both entry points build [`Settings`] with [`Settings::from_lookup`] and turn it into the
//! same app and server options, so they reject the same bad value with the same message.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::app::AppOptions;
use crate::http::ServerOptions;
use crate::instance::policy::InstancePolicy;
use crate::runtime::engine::EngineOptions;

/// A setting whose value was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}{flag} `{value}` is invalid: expected {expected}")]
pub struct SettingError {
    /// The environment variable.
    pub name: &'static str,
    /// `" (--flag)"` where a flag sets it too, else empty.
    pub flag: String,
    /// The rejected value.
    pub value: String,
    /// What is accepted.
    pub expected: String,
}

/// One whole-number setting: its variable, flag, default and range.
#[derive(Debug, Clone)]
pub struct Whole<T> {
    /// The environment variable, e.g. `HEART_MAX_INSTANCES`.
    pub name: &'static str,
    /// The `heart-host up` flag without dashes, if there is one.
    pub flag: Option<&'static str>,
    /// The value when unset.
    pub default: T,
    /// The accepted values.
    pub range: RangeInclusive<T>,
    /// The unit, for messages (`MiB`, `ms`, …; empty for a count).
    pub unit: &'static str,
}

impl<T: FromStr + PartialOrd + Display + Copy> Whole<T> {
    /// The value `lookup` gives for this setting (its default when unset), within its range.
    pub fn read(&self, lookup: &impl Fn(&str) -> Option<String>) -> Result<T, SettingError> {
        let Some(raw) = lookup(self.name) else {
            return Ok(self.default);
        };
        match raw.trim().parse::<T>() {
            Ok(value) if self.range.contains(&value) => Ok(value),
            _ => Err(SettingError {
                name: self.name,
                flag: self.flag.map(|f| format!(" (--{f})")).unwrap_or_default(),
                value: raw,
                expected: format!(
                    "a whole number{}{} in {}..={}",
                    if self.unit.is_empty() { "" } else { " of " },
                    self.unit,
                    self.range.start(),
                    self.range.end()
                ),
            }),
        }
    }
}

/// Instances the pool holds (and the most requests served at once).
pub const MAX_INSTANCES: Whole<u32> = Whole {
    name: "HEART_MAX_INSTANCES",
    flag: Some("max-instances"),
    default: 256,
    range: 1..=100_000,
    unit: "",
};

/// Largest guest linear memory.
pub const MEMORY_LIMIT_MB: Whole<usize> = Whole {
    name: "HEART_MEMORY_LIMIT_MB",
    flag: Some("memory-limit-mb"),
    default: 64,
    range: 1..=4096,
    unit: "MiB",
};

/// Longest a request may run in the guest.
pub const REQUEST_TIMEOUT_MS: Whole<u64> = Whole {
    name: "HEART_REQUEST_TIMEOUT_MS",
    flag: Some("request-timeout-ms"),
    default: 10_000,
    range: 1..=3_600_000,
    unit: "ms",
};

/// Requests one instance serves before it is dropped (1 = a fresh instance per request).
pub const INSTANCE_REUSE: Whole<usize> = Whole {
    name: "HEART_INSTANCE_REUSE",
    flag: Some("instance-reuse"),
    default: 1,
    range: 1..=1_000_000,
    unit: "",
};

/// Seconds in-flight requests get on SIGTERM/SIGINT.
pub const SHUTDOWN_GRACE_SECS: Whole<u64> = Whole {
    name: "HEART_SHUTDOWN_GRACE_SECS",
    flag: Some("shutdown-grace-secs"),
    default: 10,
    range: 0..=3600,
    unit: "s",
};

/// Streams (`/live`) open at once.
pub const MAX_STREAMS: Whole<usize> = Whole {
    name: "HEART_MAX_STREAMS",
    flag: Some("max-streams"),
    default: 32,
    range: 0..=10_000,
    unit: "",
};

/// The container's port (`heart-host up` takes `--listen` instead): containerd-shim-spin's
/// default, 80.
pub const PORT: Whole<u16> = Whole {
    name: "PORT",
    flag: None,
    default: 80,
    range: 0..=u16::MAX,
    unit: "",
};

/// The config directory (a mounted ConfigMap, watched for changes).
pub const CONFIG_DIR: &str = "HEART_CONFIG_DIR";

/// The directory of precompiled components.
pub const CACHE_DIR: &str = "HEART_CACHE_DIR";

/// The settings both entry points share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// See [`MAX_INSTANCES`].
    pub max_instances: u32,
    /// See [`MEMORY_LIMIT_MB`].
    pub memory_limit_mb: usize,
    /// See [`REQUEST_TIMEOUT_MS`].
    pub request_timeout_ms: u64,
    /// See [`INSTANCE_REUSE`].
    pub instance_reuse: usize,
    /// See [`SHUTDOWN_GRACE_SECS`].
    pub shutdown_grace_secs: u64,
    /// See [`MAX_STREAMS`].
    pub max_streams: usize,
    /// See [`CONFIG_DIR`].
    pub config_dir: Option<PathBuf>,
    /// See [`CACHE_DIR`].
    pub cache_dir: Option<PathBuf>,
}

impl Settings {
    /// Reads every setting through `lookup` (by environment variable name): the container's
    /// environment for the shim, the flags and then the process environment for `heart-host
    /// up`. The first bad value is the error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        Ok(Self {
            max_instances: MAX_INSTANCES.read(&lookup)?,
            memory_limit_mb: MEMORY_LIMIT_MB.read(&lookup)?,
            request_timeout_ms: REQUEST_TIMEOUT_MS.read(&lookup)?,
            instance_reuse: INSTANCE_REUSE.read(&lookup)?,
            shutdown_grace_secs: SHUTDOWN_GRACE_SECS.read(&lookup)?,
            max_streams: MAX_STREAMS.read(&lookup)?,
            config_dir: lookup(CONFIG_DIR).map(PathBuf::from),
            cache_dir: lookup(CACHE_DIR).map(PathBuf::from),
        })
    }

    /// The guest memory limit in bytes.
    pub fn memory_limit_bytes(&self) -> usize {
        self.memory_limit_mb << 20
    }

    /// The app's options: `manifest` to load, the compile cache in `cache_dir`, the pooling
    /// allocator unless `pooling` is off.
    pub fn app_options(
        &self,
        manifest: PathBuf,
        cache_dir: Option<PathBuf>,
        pooling: bool,
    ) -> AppOptions {
        AppOptions {
            manifest,
            cache_dir,
            engine: EngineOptions {
                pooling,
                max_instances: self.max_instances,
                max_memory_bytes: self.memory_limit_bytes(),
            },
            config_dir: self.config_dir.clone(),
            policy: InstancePolicy {
                memory_limit: self.memory_limit_bytes(),
                request_timeout: Duration::from_millis(self.request_timeout_ms),
                max_reuse: self.instance_reuse,
                ..InstancePolicy::default()
            },
        }
    }

    /// The server's options (plain HTTP, presence served; the caller adds TLS or leaves
    /// presence out).
    pub fn server_options(&self) -> ServerOptions {
        ServerOptions {
            max_concurrent_requests: self.max_instances as usize,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            max_streams: self.max_streams,
            ..ServerOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn unset_settings_take_their_defaults() {
        let settings = from(&[]).expect("defaults are valid");
        assert_eq!(settings.max_instances, MAX_INSTANCES.default);
        assert_eq!(settings.memory_limit_bytes(), 64 << 20);
        assert_eq!(settings.request_timeout_ms, 10_000);
        assert_eq!(settings.instance_reuse, 1);
        assert_eq!(settings.shutdown_grace_secs, 10);
        assert_eq!((settings.config_dir, settings.cache_dir), (None, None));
    }

    #[test]
    fn values_in_range_are_taken() {
        let settings = from(&[
            ("HEART_MEMORY_LIMIT_MB", " 4096 "),
            ("HEART_INSTANCE_REUSE", "1000"),
            ("HEART_CONFIG_DIR", "/etc/heart"),
        ])
        .expect("valid");
        assert_eq!(settings.memory_limit_mb, 4096);
        assert_eq!(settings.instance_reuse, 1000);
        assert_eq!(settings.config_dir, Some(PathBuf::from("/etc/heart")));
    }

    #[test]
    fn a_bad_value_names_the_setting_its_flag_and_the_range() {
        let err = from(&[("HEART_MEMORY_LIMIT_MB", "0")]).expect_err("0 MiB");
        assert_eq!(
            err.to_string(),
            "setting HEART_MEMORY_LIMIT_MB (--memory-limit-mb) `0` is invalid: expected a whole \
             number of MiB in 1..=4096"
        );
        // Past the range a shift would overflow into nonsense; it is refused instead.
        assert!(from(&[("HEART_MEMORY_LIMIT_MB", "99999999999999")]).is_err());
        assert!(from(&[("HEART_MAX_INSTANCES", "-1")]).is_err());
        assert!(from(&[("HEART_SHUTDOWN_GRACE_SECS", "3601")]).is_err());
        let port = PORT
            .read(&|_| Some("eighty".to_owned()))
            .expect_err("not a number");
        assert_eq!(
            port.to_string(),
            "setting PORT `eighty` is invalid: expected a whole number in 0..=65535"
        );
    }
}

//! The host's settings, defined once for both ways in: `heart-host up`'s flags (each backed by
//! its `HEART_*` environment variable) and a container's environment under the containerd
//! shim. Each setting is one entry here — its variable, flag, help, default and accepted range —
//! and [`TABLE`] lists them: `heart-host up` builds its flags and their help from it
//! ([`flags`]), the options' defaults come from it, and both entry points build [`Settings`]
//! with [`Settings::from_lookup`], so they reject the same bad value with the same message.
//! heart-host re-exports it as `heart_host::settings`.
#![deny(missing_docs)]

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

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
    /// What it sets, for `--help` (the range and default are added).
    pub help: &'static str,
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
                expected: self.expected(),
            }),
        }
    }

    /// What is accepted, e.g. "a whole number of MiB in 1..=4096".
    fn expected(&self) -> String {
        format!(
            "a whole number{}{} in {}..={}",
            if self.unit.is_empty() { "" } else { " of " },
            self.unit,
            self.range.start(),
            self.range.end()
        )
    }
}

/// One directory setting (unset: none).
#[derive(Debug, Clone)]
pub struct Directory {
    /// The environment variable.
    pub name: &'static str,
    /// The `heart-host up` flag without dashes.
    pub flag: Option<&'static str>,
    /// What it sets, for `--help`.
    pub help: &'static str,
}

/// A setting as the table lists it.
pub trait Entry: Sync {
    /// Its environment variable (also its id among `heart-host up`'s arguments).
    fn name(&self) -> &'static str;
    /// Its `heart-host up` flag without dashes, if it has one.
    fn flag(&self) -> Option<&'static str>;
    /// Its whole `--help` text: what it sets, what is accepted and its default.
    fn help(&self) -> String;
    /// The placeholder of its value in `--help`.
    fn value_name(&self) -> &'static str;
}

impl<T: FromStr + PartialOrd + Display + Copy + Sync> Entry for Whole<T> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn flag(&self) -> Option<&'static str> {
        self.flag
    }
    fn help(&self) -> String {
        format!(
            "{}: {} [default: {}]",
            self.help,
            self.expected(),
            self.default
        )
    }
    fn value_name(&self) -> &'static str {
        "N"
    }
}

impl Entry for Directory {
    fn name(&self) -> &'static str {
        self.name
    }
    fn flag(&self) -> Option<&'static str> {
        self.flag
    }
    fn help(&self) -> String {
        self.help.to_owned()
    }
    fn value_name(&self) -> &'static str {
        "DIR"
    }
}

/// Instances the pool holds (and the most requests served at once).
pub const MAX_INSTANCES: Whole<u32> = Whole {
    name: "HEART_MAX_INSTANCES",
    flag: Some("max-instances"),
    default: 256,
    range: 1..=100_000,
    unit: "",
    help: "Instances the pool holds (and the most requests served at once)",
};

/// Largest guest linear memory.
pub const MEMORY_LIMIT_MB: Whole<usize> = Whole {
    name: "HEART_MEMORY_LIMIT_MB",
    flag: Some("memory-limit-mb"),
    default: 64,
    range: 1..=4096,
    unit: "MiB",
    help: "Largest guest linear memory",
};

/// Longest a request may run in the guest.
pub const REQUEST_TIMEOUT_MS: Whole<u64> = Whole {
    name: "HEART_REQUEST_TIMEOUT_MS",
    flag: Some("request-timeout-ms"),
    default: 10_000,
    range: 1..=3_600_000,
    unit: "ms",
    help: "Longest a request may run in the guest",
};

/// Requests one instance serves before it is dropped (1 = a fresh instance per request).
pub const INSTANCE_REUSE: Whole<usize> = Whole {
    name: "HEART_INSTANCE_REUSE",
    flag: Some("instance-reuse"),
    default: 1,
    range: 1..=1_000_000,
    unit: "",
    help: "Requests one instance serves before it is dropped (1 = a fresh instance per request)",
};

/// Seconds in-flight requests get on SIGTERM/SIGINT.
pub const SHUTDOWN_GRACE_SECS: Whole<u64> = Whole {
    name: "HEART_SHUTDOWN_GRACE_SECS",
    flag: Some("shutdown-grace-secs"),
    default: 10,
    range: 0..=3600,
    unit: "s",
    help: "How long in-flight requests may finish on SIGTERM/SIGINT",
};

/// Streams (`/live`) open at once.
pub const MAX_STREAMS: Whole<usize> = Whole {
    name: "HEART_MAX_STREAMS",
    flag: Some("max-streams"),
    default: 32,
    range: 0..=10_000,
    unit: "",
    help: "Streams (`/live`) open at once; more get 503 with Retry-After",
};

/// The container's port (`heart-host up` takes `--listen` instead): containerd-shim-spin's
/// default, 80.
pub const PORT: Whole<u16> = Whole {
    name: "PORT",
    flag: None,
    default: 80,
    range: 0..=u16::MAX,
    unit: "",
    help: "The container's port",
};

/// The config directory (a mounted ConfigMap, watched for changes).
pub const CONFIG_DIR: Directory = Directory {
    name: "HEART_CONFIG_DIR",
    flag: Some("config-dir"),
    help: "Config directory (files `love-level`, `bpm`, `color`, `size`, `alert-threshold`, as \
           a mounted ConfigMap), layered over spin.toml's defaults and under SPIN_VARIABLE_*; \
           watched for changes, which apply without a restart",
};

/// The directory of precompiled components.
pub const CACHE_DIR: Directory = Directory {
    name: "HEART_CACHE_DIR",
    flag: Some("cache-dir"),
    help: "Directory for precompiled components [default: ~/.cache/heart-display/components]",
};

/// Every setting, in `--help` order.
pub const TABLE: [&dyn Entry; 9] = [
    &CONFIG_DIR,
    &CACHE_DIR,
    &MAX_INSTANCES,
    &MEMORY_LIMIT_MB,
    &REQUEST_TIMEOUT_MS,
    &INSTANCE_REUSE,
    &SHUTDOWN_GRACE_SECS,
    &MAX_STREAMS,
    &PORT,
];

/// `heart-host up`'s flags for the table's settings that have one: each backed by its
/// variable, with its help, range and default from the table. A flag's value is read by its
/// variable's name ([`Settings::from_lookup`] over the parsed arguments).
pub fn flags() -> Vec<clap::Arg> {
    TABLE
        .iter()
        .filter_map(|entry| {
            let flag = entry.flag()?;
            Some(
                clap::Arg::new(entry.name())
                    .long(flag)
                    .env(entry.name())
                    .value_name(entry.value_name())
                    .help(entry.help()),
            )
        })
        .collect()
}

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

impl Default for Settings {
    /// Every setting at its default.
    fn default() -> Self {
        Self::from_lookup(|_| None).expect("every default is within its range")
    }
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
            config_dir: lookup(CONFIG_DIR.name).map(PathBuf::from),
            cache_dir: lookup(CACHE_DIR.name).map(PathBuf::from),
        })
    }

    /// The guest memory limit in bytes.
    pub fn memory_limit_bytes(&self) -> usize {
        self.memory_limit_mb << 20
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

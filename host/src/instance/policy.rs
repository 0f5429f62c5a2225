//! What a component's instances may use and how long they live: memory and time limits and the
//! reuse policy, and the WASI HTTP version that decides how they are called.

use std::time::Duration;

use crate::settings;

pub use crate::runtime::wasm_kind::WasiHttpVersion;

/// Per-instance limits and reuse policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstancePolicy {
    /// Largest linear memory, in bytes.
    pub memory_limit: usize,
    /// Longest a request may run in the guest.
    pub request_timeout: Duration,
    /// Requests one instance serves before it is dropped (1 = fresh instance per request).
    pub max_reuse: usize,
    /// Requests one instance serves at the same time (WASI 0.3 only; 0.2 is always 1).
    pub max_concurrent_reuse: usize,
    /// How long an idle reusable instance is kept.
    pub idle_timeout: Duration,
}

impl Default for InstancePolicy {
    /// The settings' defaults ([`crate::settings`]); an idle instance kept 5 s.
    fn default() -> Self {
        Self {
            memory_limit: settings::MEMORY_LIMIT_MB.default << 20,
            request_timeout: Duration::from_millis(settings::REQUEST_TIMEOUT_MS.default),
            max_reuse: settings::INSTANCE_REUSE.default,
            max_concurrent_reuse: 1,
            idle_timeout: Duration::from_secs(5),
        }
    }
}

impl InstancePolicy {
    /// The policy as a component of `version` can follow it: at least one request per
    /// instance, and one at a time for WASI 0.2, whose calls cannot overlap in an instance.
    pub(crate) fn for_version(self, version: WasiHttpVersion) -> Self {
        Self {
            max_reuse: self.max_reuse.max(1),
            max_concurrent_reuse: match version {
                WasiHttpVersion::P2 => 1,
                WasiHttpVersion::P3 => self.max_concurrent_reuse.max(1),
            },
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_0_2_instances_take_one_request_at_a_time() {
        let asked = InstancePolicy {
            max_reuse: 0,
            max_concurrent_reuse: 8,
            ..InstancePolicy::default()
        };
        let p2 = asked.for_version(WasiHttpVersion::P2);
        assert_eq!((p2.max_reuse, p2.max_concurrent_reuse), (1, 1));
        let p3 = asked.for_version(WasiHttpVersion::P3);
        assert_eq!((p3.max_reuse, p3.max_concurrent_reuse), (1, 8));
    }
}

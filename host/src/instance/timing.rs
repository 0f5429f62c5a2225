//! What a request cost in its component, as the `Server-Timing` header reports it: whether the
//! instance was made for it (and how long that took) or reused, and the time in the guest.

use std::time::{Duration, Instant};

/// How a request got its instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstanceUse {
    /// Made for this request, in `instantiate`.
    Fresh {
        /// Time to instantiate it.
        instantiate: Duration,
    },
    /// An instance that had answered before.
    Reused,
    /// Not known (no instance was made).
    #[default]
    Unknown,
}

/// One request's figures in its component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// When the host handed the request to the component (before any instantiation).
    pub started: Option<Instant>,
    /// How it got its instance.
    pub instance: InstanceUse,
    /// Time from the call into the guest to its whole response.
    pub guest: Duration,
    /// Calls the guest made into the host for it, where the host counts them
    /// ([`crate::runtime::engine::COUNT_HOST_CALLS_ENV`]).
    pub host_calls: Option<u64>,
}

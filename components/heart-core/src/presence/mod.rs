//! Presence: the per-client heartbeat state machine, pure and clock-free (every function takes
//! the current time), so hosts can shard it however they like and tests can drive the clock.
//!
//! - `report` (feature `json`): the `POST /api/beat` body, `{client, seq, bpm}`, parsed and
//!   validated.
//! - [`client`]: one client's record and its online → weak → offline transitions.
//! - [`availability`]: `GET /api/presence`, whether the host tracks presence at all.

pub mod availability;
pub mod client;
#[cfg(feature = "json")]
pub mod report;

pub use availability::{AVAILABILITY_PATH, Availability, BEAT_PATH};
pub use client::{BeatEffect, ClientRecord, ClientState, PresencePolicy, SweepEffect};
#[cfg(feature = "json")]
pub use report::{BeatReport, BeatReportError, MAX_BEAT_BODY_BYTES, MAX_CLIENT_ID_BYTES};

//! Presence: the per-client heartbeat state machine, pure and clock-free (every function takes
//! the current time), so hosts can shard it however they like and tests can drive the clock.
//!
//! - [`report`]: the `POST /api/beat` body, `{client, seq, bpm}`, parsed and validated.
//! - [`client`]: one client's record and its online → weak → offline transitions.

pub mod client;
pub mod report;

pub use client::{BeatEffect, ClientRecord, ClientState, PresencePolicy, SweepEffect};
pub use report::{BeatReport, BeatReportError, MAX_BEAT_BODY_BYTES, MAX_CLIENT_ID_BYTES};

//! Whether a host tracks presence, for the page to ask before it beats: `GET /api/presence`.
//! The HTTP component answers `{"available": false}` itself (it keeps no state between
//! requests); a host with a presence service (heart-host) answers the route first with
//! `{"available": true}` and serves [`BEAT_PATH`]. A page under Spin or `wasmtime serve` so
//! learns there is nothing to beat to without a failing request.

use serde::Serialize;

/// The route that tells whether presence is tracked here.
pub const AVAILABILITY_PATH: &str = "/api/presence";

/// The route clients send their beats to where presence is tracked.
pub const BEAT_PATH: &str = "/api/beat";

/// The body of [`AVAILABILITY_PATH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Whether this host records beats at [`BEAT_PATH`].
    pub available: bool,
}

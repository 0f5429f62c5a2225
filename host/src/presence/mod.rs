//! Client presence, the page's "who else is watching": the table and its routes.
//!
//! - [`table`]: the client presence table (states, alert threshold, sweep);
//! - [`beat`]: `GET /api/presence` and `POST /api/beat`.

pub mod beat;
pub mod table;

pub use table::{ClientKey, DEFAULT_MAX_CLIENTS, Presence, PresenceError, StateCounts};

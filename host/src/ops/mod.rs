//! What an operator sees and what the page's presence uses.
//!
//! - [`metrics`]: Prometheus metrics with the pod's identity;
//! - [`presence`]: the client presence table;
//! - [`beat`]: `GET /api/presence`, `POST /api/beat` and the presence sweep.

pub(crate) mod beat;
pub mod metrics;
pub mod presence;

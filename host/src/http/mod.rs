//! HTTP in front of the components.
//!
//! - [`server`]: the accept loop, connections (plain or TLS) and graceful shutdown;
//! - [`host_routes`]: a request's way in — the host's own routes (health, metrics, presence),
//!   the manifest route that matched, the metric labels;
//! - [`route_pattern`]: Spin's route patterns and their precedence;
//! - [`response`]: responses the host makes itself;
//! - [`server_timing`]: the `Server-Timing` header every response carries;
//! - [`streams`]: the limit on open streams (`/live`);
//! - [`tls`]: HTTPS certificate and key loading and checks;
//! - `native` (feature `native-baseline`): the in-process baseline route for benchmarks.

pub(crate) mod host_routes;
#[cfg(feature = "native-baseline")]
pub mod native;
pub(crate) mod response;
pub(crate) mod route_pattern;
pub mod server;
pub(crate) mod server_timing;
pub(crate) mod streams;
pub mod tls;

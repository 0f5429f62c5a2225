//! HTTP in front of the components.
//!
//! - [`server`]: the accept loop, connections (plain or TLS, HTTP/1.1 or HTTP/2) and graceful
//!   shutdown;
//! - [`listener`]: the listening socket and its accept queue;
//! - [`compression`]: gzip answers where the client accepts them;
//! - [`shared`]: the server's options and what its connections share;
//! - [`idle`]: connections that do nothing (send nothing, no request, nothing written) closed;
//! - [`refused`]: the requests hyper refuses itself, named for the metrics;
//! - [`request`]: a request's way through the host, resolved once into its [`target`];
//! - [`host_routes`]: the host's own routes (health, metrics, presence);
//! - [`stream_limit`]: the limit on open streams (`/live`);
//! - [`server_timing`]: the `Server-Timing` header every response carries;
//! - [`signals`]: the signals that end a server;
//! - [`tls`]: HTTPS certificate and key loading and checks;
//! - `native` (feature `native-baseline`): the in-process baseline route for benchmarks.

pub(crate) mod compression;
pub(crate) mod host_routes;
pub(crate) mod idle;
pub mod listener;
#[cfg(feature = "native-baseline")]
pub mod native;
pub(crate) mod refused;
pub(crate) mod request;
pub mod server;
pub(crate) mod server_timing;
pub mod shared;
pub mod signals;
pub(crate) mod stream_limit;
pub(crate) mod target;
pub mod tls;

pub use server::serve;
pub use shared::ServerOptions;
pub use signals::shutdown_signal;

//! The application: what `spin.toml` describes, loaded and kept running.
//!
//! - [`loaded`]: the loaded [`App`] — its components, routes, config, metrics and presence;
//! - [`load`]: `spin.toml` (or a container's single component) → routes → components;
//! - [`routes`], [`route_pattern`]: the route table and Spin's route patterns;
//! - [`background`]: the loops that run beside the server (config reload, presence sweep,
//!   idle memory, and with `--watch` new code);
//! - [`swap`]: a component's new code swapped in under running requests, from the
//!   [`sources`] the app was loaded from;
//! - [`build`]: each component's build command (`heart-host build`);
//! - [`error`]: why an app could not be loaded or built.

pub mod background;
pub mod build;
pub mod error;
pub mod load;
pub mod loaded;
pub(crate) mod route_pattern;
pub(crate) mod routes;
pub(crate) mod sources;
pub mod swap;

pub use build::build;
pub use error::AppError;
pub use load::AppOptions;
pub use loaded::App;

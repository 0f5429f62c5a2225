//! The app's configuration while it runs.
//!
//! - [`layers`]: the one layered config — the manifest's defaults, the config directory and
//!   `SPIN_VARIABLE_*`, the single generation and each component's snapshot;
//! - [`dir`]: the config directory layer (a mounted ConfigMap), listed and validated.
//!
//! The directory's hot reload is one of the app's background loops
//! ([`crate::app::background`]); guests read their snapshot through
//! [`crate::instance::wasi_config`].

pub mod dir;
pub mod layers;

pub(crate) use layers::ComponentConfig;
pub use layers::{ConfigError, LayeredConfig, Snapshot, Variables};

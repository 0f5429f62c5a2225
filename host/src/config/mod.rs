//! The app's configuration while it runs.
//!
//! - [`live`]: the one live config — its layers, the single generation and each component's
//!   snapshot;
//! - [`dir`]: the config directory layer (a mounted ConfigMap), listed and validated;
//! - [`watch`]: the directory's hot reload;
//! - [`wasi_store`]: `wasi:config/store`, how guests read their snapshot.

pub mod dir;
pub mod live;
pub(crate) mod wasi_store;
pub(crate) mod watch;

pub(crate) use live::ComponentConfig;
pub use live::{ConfigError, LiveConfig, Snapshot, Variables};

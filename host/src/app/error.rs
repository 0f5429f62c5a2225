//! Why an app could not be loaded or built.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::manifest::ManifestError;

/// Why an app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The manifest is unreadable or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The variables, the config directory or a component's heart-display settings are
    /// invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A component's Wasm file could not be read.
    #[error(
        "component `{component}`: reading {path}: {source} (build it first: `cargo xtask build`)"
    )]
    ReadWasm {
        /// The component id.
        component: String,
        /// The Wasm path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Wasmtime rejected the component (compile, link or export check).
    #[error("component `{component}` ({path}): {message}")]
    Wasm {
        /// The component id.
        component: String,
        /// The Wasm path.
        path: PathBuf,
        /// Wasmtime's message with its causes.
        message: String,
    },
    /// A build command failed.
    #[error("component `{component}`: build command `{command}` {outcome}")]
    Build {
        /// The component id.
        component: String,
        /// The command.
        command: String,
        /// What happened.
        outcome: String,
    },
    /// The engine could not be created.
    #[error("creating the Wasmtime engine: {0}")]
    Engine(String),
    /// An `OTEL_*` trace setting is invalid.
    #[error("traces: {0}")]
    TraceSettings(#[from] crate::traces::TraceSettingsError),
    /// The trace exporter could not start.
    #[error("traces: {0}")]
    TraceExport(#[from] crate::traces::ExportError),
    /// Metrics could not be registered.
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

//! heart-manifest: the `spin.toml` an app is described by, read the way Spin reads it.
//!
//! - [`manifest`]: the manifest model, parsing and checks.
//! - [`variables`]: application/component variables resolved in layers (defaults, config
//!   directory, `SPIN_VARIABLE_*` environment) and component templates.
//! - [`world`]: a component binary's top-level imports and exports, as Spin's locked app
//!   records them.
//!
//! Shared by heart-host (which runs the app), xtask (which packs it for OCI) and the fuzz
//! targets (which feed it hostile text).
#![deny(missing_docs)]

pub mod manifest;
pub mod variables;
pub mod world;

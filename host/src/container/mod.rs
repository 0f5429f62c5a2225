//! A container's Wasm, run as the containerd shim runs it, with no containerd types.
//!
//! - [`run`]: serve a WASI HTTP component or run a `wasi:cli` command, from the container's
//!   process and environment;
//! - [`command`]: running a `wasi:cli` command to completion.

pub mod command;
pub mod run;

pub use run::{ContainerError, ContainerProcess, engine_for, run};

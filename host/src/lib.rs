//! heart-host: runs a Spin-manifest app of WASI HTTP components on Wasmtime — our `spin up` —
//! and, as a library, what the containerd shim (`containerd-shim-heart`) runs in a container.
//!
//! A request's path:
//! 1. [`http::server`] accepts the connection (plain or TLS) and hands each request on;
//! 2. [`http::host_routes`] answers the host's own routes (health, metrics, presence in
//!    [`ops::beat`]) or finds the component whose manifest route matched ([`app`]), counts
//!    the request under that route, and adds its [`http::server_timing`] header;
//! 3. [`instance::component`] takes the component's request path: WASI 0.2 through
//!    [`instance::pool`], WASI 0.3 through [`instance::worker`]; both make instances with
//!    [`instance::factory`];
//! 4. [`instance::failure`] answers, logs and counts a guest that failed.
//!
//! A stream (`/live`) takes the same path, admitted within [`http::streams`]' limit; its body
//! goes on after the answer, watched by [`instance::stream`] (progress timeout, hang-up,
//! shutdown's closing frame, counts).
//!
//! A config change's path:
//! 1. [`config::watch`] sees the config directory change (a ConfigMap's swapped `..data`, or
//!    an edit) and reads it with [`config::dir`];
//! 2. [`app`] applies it to the one [`config::live`] config, all or nothing, which makes the
//!    next generation of every component's snapshot (or keeps the last good one);
//! 3. [`instance::factory`] and [`instance::worker`] give new and reused instances the
//!    snapshot as of their request; guests read it through [`config::wasi_store`].
//!
//! Modules:
//! - [`app`]: `spin.toml` → routes → components; [`settings`]: the host's settings (defaults,
//!   ranges), one definition for the CLI flags and a container's environment;
//! - [`runtime`]: the engine, linker, compile cache, memory, and what a Wasm binary is;
//! - [`instance`]: a component's instances; [`config`]: the live configuration;
//! - [`http`]: the server and the host's routes; [`ops`]: metrics and presence;
//! - [`container`]: a container's Wasm, run as the shim runs it.
#![deny(missing_docs)]

pub mod app;
pub mod config;
pub mod container;
pub mod http;
pub mod instance;
pub mod ops;
pub mod runtime;
pub mod settings;

pub use heart_manifest::{manifest, variables};

pub use app::{App, AppError, AppOptions};
pub use http::server::{ServerOptions, serve};
pub use instance::InstancePolicy;

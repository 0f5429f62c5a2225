//! heart-host: runs a Spin-manifest app of WASI HTTP components on Wasmtime — our `spin up` —
//! and, as a library, what the containerd shim (`containerd-shim-heart`) runs in a container.
//!
//! A request's path:
//! 1. [`http::server`] accepts the connection (plain or TLS) and hands each request to
//!    [`http::request`];
//! 2. [`http::target`] resolves it once: one of the host's [`http::host_routes`] (health,
//!    metrics, [`presence`]), the component whose manifest route matched ([`app::routes`]), or
//!    nothing; the request is answered on that, counted under its route and given its
//!    [`http::server_timing`] header;
//! 3. [`instance::component`] hands a component's request to the executor of its WASI version:
//!    [`instance::wasi_p2`] (in the request's task, with an idle-instance pool) or
//!    [`instance::wasi_p3`] (`ProxyHandler` workers); both make instances with
//!    [`instance::factory`];
//! 4. [`instance::failure`] answers, logs and counts a guest that failed.
//!
//! A stream (`/live`) takes the same path, admitted within [`http::stream_limit`]; its body
//! goes on after the answer, watched by [`instance::stream`] (progress timeout, hang-up,
//! shutdown's closing frame, counts).
//!
//! A config change's path:
//! 1. the app's [`app::background`] loop sees the config directory change (a ConfigMap's
//!    swapped `..data`, or an edit) and reads it with [`config::dir`];
//! 2. [`app`] applies it to the one [`config::layers`] config, all or nothing, which makes the
//!    next generation of every component's snapshot (or keeps the last good one);
//! 3. [`instance::factory`] and [`instance::wasi_p3`] give new and reused instances the
//!    snapshot as of their request; guests read it through [`instance::wasi_config`].
//!
//! New code's path (`heart-host up --watch`, `cargo xtask watch`):
//! 1. the app's [`app::background`] loop sees a component's Wasm file change (length and time,
//!    then the bytes' digest);
//! 2. [`app::swap`] compiles the new bytes beside the running code (off the async workers) and
//!    swaps the slot's component, or refuses them and keeps the last good code;
//! 3. [`http::target`] hands each request the component as it serves at the request's start,
//!    so running requests and streams finish on the old code, which is dropped after them.
//!
//! Modules, each importing only those listed before it (the suite checks the graph):
//! - [`settings`]: the host's settings table (variable, flag, help, default, range), from which
//!   `heart-host up`'s flags, a container's environment and the options' defaults are read
//!   (the `heart-settings` crate, host/settings/, so the fuzz targets read it without Wasmtime);
//! - [`traces`]: OpenTelemetry traces — the `OTEL_*` settings, the client's `traceparent`, a
//!   request's spans and their export off the request path (the `heart-traces` crate,
//!   host/traces/, so the fuzz targets read `traceparent` without Wasmtime);
//! - [`response`]: responses the host makes itself; [`metrics`]: Prometheus metrics and their
//!   label names;
//! - [`runtime`]: the engine, compile cache, memory, and what a Wasm binary is;
//! - [`config`]: the layered configuration;
//! - [`instance`]: a component's instances, its two executors, the host interfaces;
//! - [`presence`]: the client presence table and its routes;
//! - [`app`]: `spin.toml` → routes → components, and the app's background loops;
//! - [`http`]: the server, a request's resolution, the host's routes;
//! - [`container`]: a container's Wasm, run as the shim runs it.
#![deny(missing_docs)]

pub mod app;
pub mod config;
pub mod container;
pub mod http;
pub mod instance;
pub mod metrics;
pub mod presence;
pub(crate) mod response;
pub mod runtime;
pub use heart_settings as settings;
pub use heart_traces as traces;

pub use heart_manifest::{manifest, variables};

pub use app::{App, AppError, AppOptions};
pub use http::{ServerOptions, serve};
pub use instance::InstancePolicy;

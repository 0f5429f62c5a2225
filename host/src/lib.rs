//! heart-host: runs a Spin-manifest app of WASI HTTP components on Wasmtime — our `spin up`.
//!
//! - [`manifest`], [`variables`]: `spin.toml` and its layered variables (the heart-manifest crate).
//! - [`live_variables`]: a component's variables as requests see them, swapped on reload.
//! - [`config_dir`], [`reload`]: the config directory layer (a mounted ConfigMap) and its hot reload.
//! - [`routes`]: Spin route patterns.
//! - [`engine`]: engine configuration (pooling, epochs) and the epoch ticker.
//! - [`compile_cache`]: precompiled component cache; [`heap`]: the compiler's freed memory
//!   returned after loading, and the process's resident size.
//! - [`state`], [`config_store`]: per-store host data and `wasi:config/store`.
//! - [`handler`]: a component's instances: limits, reuse policy, `ProxyHandler` state.
//! - [`dispatch`], [`direct`]: a request's path to its component (WASI 0.2 in the request's
//!   task with an idle-instance pool; WASI 0.3 through `ProxyHandler`), and
//!   [`guest_failure`]: what a failed one is counted and answered as.
//! - [`app`]: a loaded app (routes → components).
//! - [`wasm_kind`], [`command`]: what a Wasm binary is; running a `wasi:cli` command.
//! - [`container`]: a container's Wasm run as the containerd shim runs it (serve or run).
//! - [`presence`], [`beat`]: the client presence table and `POST /api/beat` with its sweep.
//! - [`reclaim`]: warm pool slots and the allocator's free pages given back once load drops.
//! - [`metrics`]: Prometheus metrics with the pod's identity.
//! - [`response`]: host-generated responses.
//! - [`tls`]: HTTPS certificate/key loading and checks.
//! - `native` (feature `native-baseline`): the in-process baseline route for benchmarks.
//! - [`server`]: the HTTP server with health and metrics routes and graceful shutdown.
//! - [`settings`]: the host's settings (defaults, ranges), one definition for the CLI flags and
//!   a container's environment.
#![deny(missing_docs)]

pub mod app;
pub mod beat;
pub mod command;
pub mod compile_cache;
pub mod config_dir;
pub mod config_store;
pub mod container;
pub mod direct;
pub mod dispatch;
pub mod engine;
pub mod guest_failure;
pub mod handler;
pub mod heap;
pub mod live_variables;
pub mod metrics;
#[cfg(feature = "native-baseline")]
pub mod native;
pub mod presence;
pub mod reclaim;
pub mod reload;
pub mod response;
pub mod routes;
pub mod server;
pub mod settings;
pub mod state;
pub mod tls;
pub mod wasm_kind;

pub use heart_manifest::{manifest, variables};

pub use app::{App, AppError, AppOptions};
pub use handler::InstancePolicy;
pub use server::{ServerOptions, serve};

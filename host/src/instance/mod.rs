//! A component's instances: how they are made, called, reused and dropped.
//!
//! - [`component`]: one component ready to serve, handing each request to the executor of its
//!   WASI version;
//! - [`wasi_p2`]: WASI 0.2, called in the request's task, with an idle-instance pool;
//! - [`wasi_p3`]: WASI 0.3, through `wasmtime-wasi-http`'s `ProxyHandler` workers;
//! - [`cpu_time`]: the time a guest runs on a worker thread, from the clock around each poll;
//! - [`factory`]: makes an instance's store (variables, limits, deadline) and counts instances;
//! - [`linker`]: the host interfaces every component is linked against;
//! - [`wasi_config`]: `wasi:config/store`, how guests read their config snapshot;
//! - [`failure`]: the one mapping from a guest failure to its status, log line and metric;
//! - [`policy`]: memory and time limits and reuse;
//! - [`limits`]: the store's resource limiter, and what its memory did under it;
//! - [`store`]: the data each store carries, and the outbound-request refusal;
//! - [`stream`]: long responses (`/live`): progress timeouts, hang-ups, shutdown, counts;
//! - [`timing`]: what a request cost in its component (for `Server-Timing`).

pub mod component;
pub(crate) mod cpu_time;
pub(crate) mod factory;
pub(crate) mod failure;
pub(crate) mod limits;
pub(crate) mod linker;
pub mod policy;
pub(crate) mod store;
pub mod stream;
pub mod timing;
pub(crate) mod wasi_config;
pub(crate) mod wasi_p2;
pub(crate) mod wasi_p3;

pub use component::Component;
pub use policy::{InstancePolicy, WasiHttpVersion};
pub use stream::Closing;
pub use timing::{InstanceUse, Timing};

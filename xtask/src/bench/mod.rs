//! `cargo xtask bench`: the host's performance figures as ratios measured in one run on this
//! machine, printed as a table and written as JSON. Nothing here asserts a timing.
//!
//! 1. `/heart.svg` through the component vs the same request answered natively in-process by
//!    the same routing function (`/native/…`, host feature `native-baseline`), fresh instance
//!    per request and with instance reuse.
//! 2. heart-host vs `wasmtime serve` (wasmtime-cli 50.0.1, installed once into the tools dir)
//!    serving the same plain-WASI component (`heart_http_env.wasm`), metrics on in ours.
//! 3. Per-request instantiate + handle in-process (criterion bench `instantiate`).
//! 4. Cold start, exec → first 200, with and without the compile cache.
//! 5. RSS idle and under load.
//! 6. The presence table at 1M clients (bench `presence`).
//!
//! 7. Memory after a burst ([`memory`]).
//!
//! `cargo xtask bench --explain` ([`explain`]) instead accounts for one `/heart.svg` request's
//! CPU, line by line ([`profile`]: perf samples sorted by call stack).
//!
//! `cargo xtask bench-wire` ([`wire`]): compression's CPU cost per frame against identity, and
//! HTTP/2 against HTTP/1.1, with h2load.
//!
//! `cargo xtask bench-against REV…` ([`against`]) loads the same HTTP scenarios on this
//! checkout's build and other commits' in one run.
//!
//! Files: [`run`] (the order and the report), [`servers`] (heart-host and `wasmtime serve`),
//! [`wrk`] (load and interleaved rounds), [`stats`] (medians and ratios), [`startup`] (cold
//! starts, idle memory), [`criterion`] (in-process figures), [`memory`] (around a burst).
//!
//! Loopback only; the server is pinned to core 0 and `wrk -t1 -c16` to core 1 (`taskset`).
//! The machine is shared and its speed drifts over seconds, so the HTTP scenarios run
//! interleaved: every server is started first, then each round loads every scenario in turn.
//! Figures are medians over the rounds, and each ratio is the median of the per-round ratios
//! (both sides measured seconds apart), with its range.

mod against;
mod criterion;
mod explain;
mod memory;
mod profile;
mod run;
mod servers;
mod startup;
mod stats;
mod wire;
mod wrk;

pub use against::{AgainstOptions, bench_against};
pub use explain::explain;
pub use run::{BenchOptions, bench};
pub use wire::bench_wire;

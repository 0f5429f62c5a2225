//! heart-host's integration tests, one binary (as wasmtime lays its tests out): each module is
//! an area, served by the real `heart-host` binary and the real built components through the
//! shared harness in [`support`].

mod abuse;
mod cli_help;
mod component_imports;
mod compression;
mod container;
mod framing;
mod guest_faults;
mod http2;
mod http_api;
mod isolation;
mod live;
mod live_config;
mod many_streams;
mod metrics;
mod module_graph;
mod node_cache;
mod pooling;
mod presence;
mod reclaim;
mod reuse;
mod runtime_figures;
mod sandbox;
mod server_timing;
mod slowloris;
mod support;
mod swap;
mod swapping;
mod tls;
mod traces;

//! Wasmtime, set up once per process.
//!
//! - [`engine`]: engine configuration (pooling, epochs) and the epoch ticker;
//! - [`compile_cache`]: precompiled components kept on disk;
//! - [`node_cache`]: the node's compiled code, written by the containerd shim outside any
//!   container and handed to the containers it makes;
//! - [`heap`]: the compiler's freed memory returned, and the process's resident size;
//! - [`wasm_kind`]: what a Wasm binary is (HTTP component of a WASI version, command, or
//!   neither).

pub mod compile_cache;
pub mod engine;
pub mod heap;
pub mod node_cache;
pub mod wasm_kind;

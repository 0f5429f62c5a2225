//! Wasmtime, set up once per process.
//!
//! - [`engine`]: engine configuration (pooling, epochs) and the epoch ticker;
//! - [`linker`]: the host interfaces every component is linked against;
//! - [`compile_cache`]: precompiled components kept on disk;
//! - [`heap`]: the compiler's freed memory returned, and the process's resident size;
//! - [`reclaim`]: warm pool slots and free pages given back once load drops;
//! - [`wasm_kind`]: what a Wasm binary is (HTTP component, command, or neither).

pub mod compile_cache;
pub mod engine;
pub mod heap;
pub(crate) mod linker;
pub mod reclaim;
pub mod wasm_kind;

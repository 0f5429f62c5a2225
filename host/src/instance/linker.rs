//! The host interfaces every component is linked against: WASI 0.2 (the full CLI world and
//! HTTP), `wasi:config/store`, and WASI 0.3 (CLI, HTTP) when the engine has concurrency
//! support.

use wasmtime::component::Linker;

use crate::instance::store::HostState;
use crate::instance::wasi_config;

/// A linker with the interfaces; `concurrent` adds WASI 0.3's.
pub fn build(engine: &wasmtime::Engine, concurrent: bool) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::<HostState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    if concurrent {
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    }
    wasi_config::add_to_linker(&mut linker)?;
    Ok(linker)
}

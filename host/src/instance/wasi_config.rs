//! `wasi:config/store` for guests, in both versions in use: `0.2.0-draft-2024-09-27` (what Spin
//! 4 implements and the spin-sdk crates import; bound here with a small `bindgen!`) and
//! `0.2.0-rc.1` (what `wasmtime-wasi-config` 50 implements). Both read the same per-store
//! snapshot of the component's variables.
//!
//! The draft interface also answers two keys that are no declared variables:
//! [`CONFIG_GENERATION_VARIABLE`], the config generation of the snapshot, which heart
//! components show in their frames' runtime figures, and [`CLOSING_VARIABLE`], `true` once the
//! host shuts down, when open streams end with their closing frame (hosts without them leave
//! them unset).

use heart_core::api::CLOSING_VARIABLE;
use heart_core::runtime::CONFIG_GENERATION_VARIABLE;
use wasmtime::component::{HasData, Linker};

use crate::config::Variables;
use crate::instance::store::HostState;

mod draft {
    wasmtime::component::bindgen!({
        path: "wit/config-draft",
        world: "wasi:config/imports",
        imports: { default: trappable },
    });
}

use draft::wasi::config::store as draft_store;

/// The draft interface's view: the variables of one store.
#[derive(Debug)]
pub struct DraftConfig<'a> {
    vars: &'a Variables,
    closing: bool,
}

impl draft_store::Host for DraftConfig<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, draft_store::Error>> {
        let value = match self.vars.get(&key) {
            None => self.host_key(&key),
            value => value.cloned(),
        };
        Ok(Ok(value))
    }

    /// Every key `get` answers, the host's own two included (the components read their config
    /// and its generation in this one call).
    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, draft_store::Error>> {
        let declared = self.vars.iter().map(|(k, v)| (k.clone(), v.clone()));
        let host = [CONFIG_GENERATION_VARIABLE, CLOSING_VARIABLE]
            .into_iter()
            .filter(|key| self.vars.get(*key).is_none())
            .filter_map(|key| Some((key.to_owned(), self.host_key(key)?)));
        Ok(Ok(declared.chain(host).collect()))
    }
}

impl DraftConfig<'_> {
    /// The value of a key that is no declared variable: the generation, and `true` for
    /// [`CLOSING_VARIABLE`] once the host shuts down.
    fn host_key(&self, key: &str) -> Option<String> {
        match key {
            CONFIG_GENERATION_VARIABLE => Some(self.vars.generation.to_string()),
            CLOSING_VARIABLE => self.closing.then(|| "true".to_owned()),
            _ => None,
        }
    }
}

struct HasDraftConfig;

impl HasData for HasDraftConfig {
    type Data<'a> = DraftConfig<'a>;
}

/// Adds both versions of `wasi:config/store` to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    draft_store::add_to_linker::<HostState, HasDraftConfig>(linker, |state| DraftConfig {
        vars: state.variables(),
        closing: state.streams_closing(),
    })?;
    wasmtime_wasi_config::add_to_linker(linker, |state| {
        wasmtime_wasi_config::WasiConfig::new(state.rc1_variables())
    })
}

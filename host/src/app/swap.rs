//! New code under a running app (`heart-host up --watch`, what `cargo xtask watch` runs): when a
//! component's Wasm file changes, the new code is compiled beside the old and swapped in for the
//! next request, like a config reload. Requests and streams already running keep the component
//! they started with and finish on the old code; it is dropped after the last of them. A file
//! that does not compile or link is refused whole, logged and counted
//! (`heart_component_loads_total{outcome="failed"}`), and the last good code keeps serving.
//!
//! A file is compared by its length and modification time first (one `stat` per poll), then by
//! the digest of its bytes, so a build that rewrites the same bytes swaps nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::component::Linker;

use crate::app::{App, AppError};
use crate::config::ComponentConfig;
use crate::instance::component::{LoadContext, LoadError};
use crate::instance::store::HostState;
use crate::instance::{Component, InstancePolicy};

/// What the components are reloaded with: the load's linker, cache and limits, and per slot
/// its environment and what its file held when last looked at.
pub(crate) struct Sources {
    pub(super) linker: Linker<HostState>,
    pub(super) cache_dir: Option<PathBuf>,
    pub(super) policy: InstancePolicy,
    pub(super) slots: Vec<SlotSource>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("cache_dir", &self.cache_dir)
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

/// One component's source.
#[derive(Debug)]
pub(crate) struct SlotSource {
    pub(super) environment: BTreeMap<String, String>,
    seen: Mutex<Seen>,
}

impl SlotSource {
    /// The source of a component loaded from `wasm` with `environment`.
    pub(super) fn new(
        environment: BTreeMap<String, String>,
        path: &std::path::Path,
        wasm: &[u8],
    ) -> Self {
        Self {
            environment,
            seen: Mutex::new(Seen {
                stamp: Stamp::of(path),
                digest: digest(wasm),
            }),
        }
    }
}

/// What a component's file held when last looked at.
#[derive(Debug)]
struct Seen {
    stamp: Option<Stamp>,
    /// Of the bytes last loaded or refused.
    digest: [u8; 32],
}

/// A file's length and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: SystemTime,
}

impl Stamp {
    fn of(path: &std::path::Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok()?,
        })
    }
}

fn digest(wasm: &[u8]) -> [u8; 32] {
    Sha256::digest(wasm).into()
}

/// What looking at a component's file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// The file is as last seen (or holds the same bytes).
    Unchanged,
    /// New code serves the next request; it took this long to compile or load.
    Swapped {
        /// Compiling (or loading from the compile cache) and linking the new code.
        load_time: Duration,
    },
}

impl App {
    /// Whether the app's components can be swapped (loaded from files, not given as bytes).
    pub fn swappable(&self) -> bool {
        self.sources.is_some()
    }

    /// Looks at the file of the component in `slot` and, when its bytes changed, compiles them
    /// and swaps the new code in for the next request. Compiling takes a while: call it off the
    /// async workers. On error the current code keeps serving and the same bytes are not tried
    /// again.
    pub fn swap_if_changed(&self, slot: usize) -> Result<Swap, AppError> {
        let (Some(sources), Some(current)) = (&self.sources, self.component(slot)) else {
            return Ok(Swap::Unchanged);
        };
        let source = &sources.slots[slot];
        let mut seen = source.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let stamp = Stamp::of(&current.path);
        if stamp == seen.stamp {
            return Ok(Swap::Unchanged);
        }
        seen.stamp = stamp;
        let wasm = std::fs::read(&current.path).map_err(|source| AppError::ReadWasm {
            component: current.id.clone(),
            path: current.path.clone(),
            source,
        })?;
        let digest = digest(&wasm);
        if digest == seen.digest {
            return Ok(Swap::Unchanged);
        }
        seen.digest = digest;
        let context = LoadContext {
            engine: &self.engine.engine,
            linker: &sources.linker,
            cache_dir: sources.cache_dir.as_deref(),
            policy: sources.policy,
            metrics: &self.metrics,
            closing: &self.closing,
        };
        let loaded = Component::load(
            &context,
            &current.id,
            (&current.path, &wasm),
            ComponentConfig::new(self.config.clone(), slot),
            source.environment.clone(),
        );
        match loaded {
            Ok(component) => {
                let load_time = component.load_time;
                self.components[slot].store(Arc::new(component));
                Ok(Swap::Swapped { load_time })
            }
            Err(LoadError(message)) => {
                self.metrics
                    .component_loads
                    .with_label_values(&["failed"])
                    .inc();
                Err(AppError::Wasm {
                    component: current.id.clone(),
                    path: current.path.clone(),
                    message,
                })
            }
        }
    }
}

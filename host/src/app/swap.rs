//! New code under a running app (`heart-host up --watch`, what `cargo xtask watch` runs): when a
//! component's Wasm file changes, the new code is compiled beside the old and swapped in for the
//! next request, like a config reload. Requests and streams already running keep the component
//! they started with and finish on the old code; it is dropped after the last of them. A file
//! that does not compile or link is refused whole, logged and counted
//! (`heart_component_loads_total{outcome="failed"}`), and the last good code keeps serving.
//!
//! A file is compared by its length and modification time first (one `stat` per poll), then by
//! the digest of its bytes, so a build that rewrites the same bytes swaps nothing.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use crate::app::sources::{Stamp, digest};
use crate::app::{App, AppError};
use crate::config::ComponentConfig;
use crate::instance::Component;
use crate::instance::component::{LoadContext, LoadError};

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

//! Where an app's components were loaded from, kept for `--watch` ([`super::swap`]): the load's
//! linker, compile cache and limits, and per component its environment and what its file held
//! when last looked at (length and modification time, and the digest of its bytes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::component::Linker;

use crate::instance::InstancePolicy;
use crate::instance::store::HostState;

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
    pub(super) seen: Mutex<Seen>,
}

impl SlotSource {
    /// The source of a component loaded from `wasm` with `environment`.
    pub(super) fn new(environment: BTreeMap<String, String>, path: &Path, wasm: &[u8]) -> Self {
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
pub(crate) struct Seen {
    pub(super) stamp: Option<Stamp>,
    /// Of the bytes last loaded or refused.
    pub(super) digest: [u8; 32],
}

/// A file's length and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: SystemTime,
}

impl Stamp {
    pub(super) fn of(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok()?,
        })
    }
}

pub(super) fn digest(wasm: &[u8]) -> [u8; 32] {
    Sha256::digest(wasm).into()
}

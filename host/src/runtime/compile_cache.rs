//! Precompiled component cache: `Component::serialize` output stored on disk under a key made
//! of the Wasm's SHA-256 and the engine's compatibility hash, so restarts skip compilation.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded precompiled from the cache.
    Hit,
    /// Compiled (and stored, if a cache directory is set).
    Compiled,
    /// Mapped from the node cache the containerd shim mounted (`super::node_cache`; not
    /// returned by [`load`]).
    NodeCache,
}

/// Feeds `Hash` output into SHA-256 so the engine's compatibility hash is stable on disk.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The cache key for `wasm` under `engine`'s settings.
pub fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    hasher.write(b"heart-host-component-cache-v1");
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.update(Sha256::digest(wasm));
    hex(&hasher.0.finalize())
}

/// `bytes` in lower-case hexadecimal (cache keys and checksums in file names).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compiles `wasm`, or loads it from `cache_dir` when an entry for this exact Wasm and engine
/// configuration exists. A broken or incompatible entry is recompiled and overwritten.
pub fn load(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: Option<&Path>,
) -> wasmtime::Result<(Component, CacheOutcome)> {
    let Some(dir) = cache_dir else {
        return Ok((Component::new(engine, wasm)?, CacheOutcome::Compiled));
    };
    let path = dir.join(format!("{}.cwasm", key(engine, wasm)));
    if path.is_file() {
        match from_file(engine, &path) {
            Ok(component) => return Ok((component, CacheOutcome::Hit)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cache entry")
            }
        }
    }
    let component = Component::new(engine, wasm)?;
    if let Err(e) = store(&path, &component) {
        tracing::warn!(path = %path.display(), error = %e, "could not write compile cache");
        return Ok((component, CacheOutcome::Compiled));
    }
    // Served from the entry just written: its code is then a mapping of the file, which the
    // kernel can drop and read again, rather than anonymous memory the compiler wrote, so a
    // start that compiled sits as low as one that hit the cache.
    match from_file(engine, &path) {
        Ok(mapped) => Ok((mapped, CacheOutcome::Compiled)),
        Err(_) => Ok((component, CacheOutcome::Compiled)),
    }
}

/// A component from a cache entry.
fn from_file(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file is one this host wrote with `Component::serialize` into its own cache
    // directory, under a key that covers the exact Wasm bytes and the engine's compatibility
    // hash; Wasmtime additionally checks its own version and configuration header.
    #[allow(unsafe_code)]
    unsafe {
        Component::deserialize_file(engine, path)
    }
}

/// Writes atomically: a temporary file renamed into place, so readers never see half a file.
fn store(path: &Path, component: &Component) -> wasmtime::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp: PathBuf = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The default cache directory: `$XDG_CACHE_HOME/heart-display/components`, else
/// `$HOME/.cache/heart-display/components`.
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("heart-display").join("components"))
}

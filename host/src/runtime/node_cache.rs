//! The node's compiled-code cache, as the containerd shim uses it: each Wasm is compiled at most
//! once per node per engine configuration, by the shim (root, outside any container), into a
//! directory only root can write. The shim verifies the entry, bind-mounts it read-only into the
//! container at [`MOUNT_PATH`] and names its key in [`ENV`] — both written by the shim into the
//! container's spec after removing any the pod supplied — so every container of that Wasm maps
//! its code from the one file, and never from anything its image or volumes hold. Threat model:
//! SECURITY.md, "Compiled code".
//!
//! An entry is `<key>-<sha256 of its bytes>.cwasm`: the key covers the Wasm's SHA-256 and the
//! engine's compatibility hash (Wasmtime's version and every setting that shapes the code), the
//! checksum lets a truncated, corrupted or altered entry be found and recompiled, never loaded.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::runtime::compile_cache::{self, hex};

/// The shim's environment variable naming the cache directory.
pub const DIR_ENV: &str = "HEART_NODE_CACHE_DIR";

/// Where the cache lives when [`DIR_ENV`] is unset.
pub const DEFAULT_DIR: &str = "/var/lib/containerd-shim-heart/compiled";

/// How [`NodeCache::prepare`] got its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// A verified entry was there.
    Hit,
    /// Compiled now (after refusing `refused` bad entries of the same key).
    Compiled {
        /// Entries of this key whose bytes did not match their checksum, removed.
        refused: usize,
    },
}

/// Why the cache could not give a compiled file.
#[derive(Debug, thiserror::Error)]
pub enum NodeCacheError {
    /// A file-system step failed.
    #[error("node cache {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The directory is one others could write: compiled code is never read from such a place.
    #[error(
        "node cache {} must be a directory owned by uid {uid} that no one else can write (found owner {owner}, mode {mode:o}); not using it",
        path.display()
    )]
    Unsafe {
        /// The directory.
        path: PathBuf,
        /// Our effective uid.
        uid: u32,
        /// Its owner.
        owner: u32,
        /// Its permission bits.
        mode: u32,
    },
    /// Wasmtime could not compile or serialize the Wasm.
    #[error("compiling for the node cache: {0}")]
    Compile(String),
}

/// A verified entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its file.
    pub path: PathBuf,
    /// Its key (the Wasm's and the engine's).
    pub key: String,
    /// Found or compiled.
    pub prepared: Prepared,
}

/// The cache directory, checked safe to load native code from.
#[derive(Debug, Clone)]
pub struct NodeCache {
    dir: PathBuf,
}

impl NodeCache {
    /// Opens (creating, mode 0700) `dir`; refuses one that is a symlink, not ours, or writable by
    /// group or others.
    pub fn open(dir: PathBuf) -> Result<Self, NodeCacheError> {
        let io = |source| NodeCacheError::Io {
            path: dir.clone(),
            source,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io)?;
        let meta = std::fs::symlink_metadata(&dir).map_err(io)?;
        let uid = effective_uid();
        if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
            return Err(NodeCacheError::Unsafe {
                path: dir,
                uid,
                owner: meta.uid(),
                mode: meta.mode() & 0o7777,
            });
        }
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The verified entry for `wasm` under `engine` (its path and key), compiled and stored
    /// first when no good entry exists. Entries whose bytes do not match their checksum are
    /// removed.
    pub fn prepare(&self, engine: &Engine, wasm: &[u8]) -> Result<Entry, NodeCacheError> {
        let key = compile_cache::key(engine, wasm);
        let mut refused = 0;
        for path in self.entries(&key)? {
            match verified(&path) {
                Some(()) => {
                    return Ok(Entry {
                        path,
                        key,
                        prepared: Prepared::Hit,
                    });
                }
                None => {
                    refused += 1;
                    tracing::warn!(path = %path.display(), "node cache entry refused: its bytes do not match its checksum; recompiling");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let component =
            Component::new(engine, wasm).map_err(|e| NodeCacheError::Compile(format!("{e:#}")))?;
        let bytes = component
            .serialize()
            .map_err(|e| NodeCacheError::Compile(format!("{e:#}")))?;
        let path = self.store(&key, &bytes)?;
        verified(&path).ok_or_else(|| NodeCacheError::Io {
            path: path.clone(),
            source: std::io::Error::other("the entry just written does not verify"),
        })?;
        Ok(Entry {
            path,
            key,
            prepared: Prepared::Compiled { refused },
        })
    }

    /// The entries named for `key`.
    fn entries(&self, key: &str) -> Result<Vec<PathBuf>, NodeCacheError> {
        let io = |source| NodeCacheError::Io {
            path: self.dir.clone(),
            source,
        };
        let prefix = format!("{key}-");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".cwasm") {
                found.push(self.dir.join(&*name));
            }
        }
        Ok(found)
    }

    /// Writes `bytes` as the entry for `key`: a new file (mode 0444, synced) renamed into place,
    /// so no reader ever sees part of one.
    fn store(&self, key: &str, bytes: &[u8]) -> Result<PathBuf, NodeCacheError> {
        let path = self
            .dir
            .join(format!("{key}-{}.cwasm", hex(&Sha256::digest(bytes))));
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| NodeCacheError::Io { path, source }
        };
        let _ = std::fs::remove_file(&tmp);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io(&tmp))?;
        file.write_all(bytes).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        Ok(path)
    }
}

/// `Some` if the entry at `path` is a regular file of ours no one else can write whose bytes
/// match the checksum in its name.
fn verified(path: &Path) -> Option<()> {
    let name = path.file_name()?.to_str()?.strip_suffix(".cwasm")?;
    let (_, sum) = name.rsplit_once('-')?;
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.uid() != effective_uid() || meta.mode() & 0o222 != 0 {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()?);
    file.read_to_end(&mut bytes).ok()?;
    (hex(&Sha256::digest(&bytes)) == sum).then_some(())
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

/// Where the shim mounts the verified entry in the container (read-only).
pub const MOUNT_PATH: &str = "/.heart/compiled.cwasm";

/// The container's environment variable holding the key of the entry at [`MOUNT_PATH`]; the
/// shim removes any the pod set and sets it only when it mounted an entry.
pub const ENV: &str = "HEART_NODE_COMPILED";

static ACCEPTED: OnceLock<String> = OnceLock::new();

/// Accepts the entry the shim mounted, `key` being [`ENV`]'s value (a container's process runs
/// one container, so once per process).
pub fn accept(key: String) {
    let _ = ACCEPTED.set(key);
}

/// The component the shim compiled for exactly `wasm` under `engine`'s configuration, if it
/// mounted one; `None` (compile here) when it did not, or Wasmtime refuses it.
pub(crate) fn handed_over(engine: &Engine, wasm: &[u8]) -> Option<Component> {
    let accepted = ACCEPTED.get()?;
    if *accepted != compile_cache::key(engine, wasm) {
        tracing::warn!(
            "the node cache's entry was compiled for other Wasm or settings; compiling here"
        );
        return None;
    }
    // SAFETY: the file is a node-cache entry the shim (root) wrote with `Component::serialize`
    // in a directory only root can write, checked against its checksum just before it mounted
    // it here read-only; the key says it is for these exact bytes and this engine, and Wasmtime
    // checks its own version and configuration header as well.
    #[allow(unsafe_code)]
    let loaded = unsafe { Component::deserialize_file(engine, MOUNT_PATH) };
    match loaded {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "the node cache's entry does not load; compiling here");
            None
        }
    }
}

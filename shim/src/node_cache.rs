//! The shim's before-create step: compiles a Wasm container's entrypoint into the node's
//! compiled-code cache ([`heart_host::runtime::node_cache`]) in the shim's own process — root,
//! the node's mount namespace, before the container exists — and writes into the container's
//! spec a read-only bind mount of the verified entry and the variable naming its key, having
//! first removed any such mount or variable the pod brought. A cache that cannot be used only
//! costs speed: the container then compiles its Wasm itself, as it always could. A spec that
//! cannot be read or written fails the container (it could still hold the pod's variable).

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use heart_host::container::{self, ContainerProcess};
use heart_host::runtime::node_cache::{self, Entry, NodeCache, Prepared};
use serde_json::{Value, json};

/// The largest entrypoint read for the cache (the container itself reads any size).
const MAX_WASM_BYTES: u64 = 512 << 20;

/// The before-create step (`containerd_shimkit::sandbox::shim::set_before_create`).
pub fn before_create(bundle: &Path, rootfs: &Path) -> Result<(), String> {
    let started = Instant::now();
    let config = bundle.join("config.json");
    let mut spec: Value = std::fs::read(&config)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        .map_err(|e| format!("reading {}: {e}", config.display()))?;
    let mut changed = forget_pods_own(&mut spec);
    match entry_for(&spec, rootfs) {
        Ok(None) => {}
        Ok(Some((entrypoint, entry, dir))) => {
            mount_into(&mut spec, &entry);
            changed = true;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            match entry.prepared {
                Prepared::Hit => {
                    log::info!("node cache hit: {entrypoint} from {dir} in {ms:.1} ms")
                }
                Prepared::Compiled { refused } => log::info!(
                    "node cache compiled: {entrypoint} into {dir} in {ms:.1} ms ({refused} bad entries refused)"
                ),
            }
        }
        Err(e) => log::warn!("node cache not used (the container compiles its Wasm): {e:#}"),
    }
    if changed {
        let tmp = bundle.join("config.json.heart");
        std::fs::write(&tmp, spec.to_string())
            .and_then(|()| std::fs::rename(&tmp, &config))
            .map_err(|e| format!("writing {}: {e}", config.display()))?;
    }
    Ok(())
}

/// Removes from `spec` any [`node_cache::ENV`] variable and any mount at
/// [`node_cache::MOUNT_PATH`]: only this step sets them. True if there was one.
fn forget_pods_own(spec: &mut Value) -> bool {
    let prefix = format!("{}=", node_cache::ENV);
    let mut changed = false;
    if let Some(env) = spec
        .pointer_mut("/process/env")
        .and_then(Value::as_array_mut)
    {
        let before = env.len();
        env.retain(|v| !v.as_str().is_some_and(|e| e.starts_with(&prefix)));
        changed |= env.len() != before;
    }
    if let Some(mounts) = spec.pointer_mut("/mounts").and_then(Value::as_array_mut) {
        let before = mounts.len();
        mounts.retain(|m| m["destination"] != node_cache::MOUNT_PATH);
        changed |= mounts.len() != before;
    }
    changed
}

/// Adds to `spec` the read-only bind mount of `entry` and the variable naming its key.
fn mount_into(spec: &mut Value, entry: &Entry) {
    let mount = json!({
        "destination": node_cache::MOUNT_PATH,
        "type": "bind",
        "source": entry.path,
        "options": ["bind", "ro", "nosuid", "nodev"],
    });
    if let Some(mounts) = spec.as_object_mut().map(|s| {
        s.entry("mounts")
            .or_insert_with(|| Value::Array(Vec::new()))
    }) && let Some(mounts) = mounts.as_array_mut()
    {
        mounts.push(mount);
    }
    if let Some(env) = spec
        .pointer_mut("/process/env")
        .and_then(Value::as_array_mut)
    {
        env.push(Value::String(format!("{}={}", node_cache::ENV, entry.key)));
    }
}

/// The node's cache directory: `HEART_NODE_CACHE_DIR` of the shim's environment (containerd's),
/// else [`node_cache::DEFAULT_DIR`].
pub fn dir() -> PathBuf {
    std::env::var_os(node_cache::DIR_ENV)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(node_cache::DEFAULT_DIR), PathBuf::from)
}

/// The verified entry for the container's entrypoint, with the entrypoint and the cache dir;
/// `None` when the entrypoint is not Wasm heart runs.
fn entry_for(spec: &Value, rootfs: &Path) -> anyhow::Result<Option<(String, Entry, String)>> {
    let strings = |pointer: &str| -> Vec<String> {
        spec.pointer(pointer)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let args = strings("/process/args");
    let Some(entrypoint) = args.first() else {
        return Ok(None);
    };
    let Some(wasm) = read_in_root(rootfs, Path::new(entrypoint))? else {
        return Ok(None);
    };
    let process = ContainerProcess {
        name: Path::new(entrypoint)
            .file_stem()
            .map_or_else(|| "app".to_owned(), |s| s.to_string_lossy().into_owned()),
        args: args.clone(),
        env: strings("/process/env"),
    };
    // Not something heart runs (or a bad setting): the container reports it, by name.
    let Ok(engine) = container::engine_for(&wasm, &process) else {
        return Ok(None);
    };
    let cache = NodeCache::open(dir())?;
    let entry = cache.prepare(&engine, &wasm)?;
    Ok(Some((
        entrypoint.clone(),
        entry,
        cache.dir().display().to_string(),
    )))
}

/// The Wasm at absolute `path` inside `rootfs`, read without following any symlink (an image
/// could point one anywhere on the node); `None` for a path that is not plain Wasm there.
fn read_in_root(rootfs: &Path, path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    if !path.is_absolute() {
        return Ok(None);
    }
    let mut at = rootfs.to_owned();
    let mut last = None;
    for part in path.components() {
        match part {
            Component::RootDir => continue,
            Component::Normal(name) => at.push(name),
            _ => return Ok(None),
        }
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if !meta.file_type().is_symlink() => last = Some(meta),
            _ => return Ok(None),
        }
    }
    if !last.is_some_and(|meta| meta.is_file() && meta.len() <= MAX_WASM_BYTES) {
        return Ok(None);
    }
    let bytes = std::fs::read(&at)?;
    Ok(bytes.starts_with(b"\0asm").then_some(bytes))
}

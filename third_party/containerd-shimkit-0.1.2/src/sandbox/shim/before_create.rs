//! heart-display patch: a step the shim binary registers to run for each container in the shim
//! process (root, the node's mount namespace) after the container's rootfs is mounted and before
//! the container is built from its bundle, which the step may change (its `config.json`).
//! heart-display's shim compiles the container's Wasm into the node's compiled-code cache there,
//! outside any container, and mounts the result into the container.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The registered step, given the bundle and the mounted rootfs; an error fails the container's
/// creation with that message.
pub type BeforeCreate = fn(bundle: &Path, rootfs: &Path) -> Result<(), String>;

static HOOK: OnceLock<BeforeCreate> = OnceLock::new();

/// Registers `hook` for every container this process creates; false if one was registered.
pub fn set_before_create(hook: BeforeCreate) -> bool {
    HOOK.set(hook).is_ok()
}

/// Runs the registered step, if any, off the async runtime's threads (it may compile).
pub(crate) async fn before_create(bundle: &Path, rootfs: &Path) -> Result<(), String> {
    let Some(hook) = HOOK.get().copied() else {
        return Ok(());
    };
    let (bundle, rootfs): (PathBuf, PathBuf) = (bundle.to_owned(), rootfs.to_owned());
    tokio::task::spawn_blocking(move || hook(&bundle, &rootfs))
        .await
        .map_err(|e| format!("the before-create step failed: {e}"))?
}

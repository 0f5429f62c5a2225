//! The app's background loops, started by the server with the app and stopped with it.
//!
//! - **Config hot reload.** Kubernetes swaps a ConfigMap mount's `..data` symlink rather than
//!   editing files, which inotify-style watchers see only as events on hidden entries; polling
//!   the visible files every [`POLL_INTERVAL`] and comparing contents handles that and plain
//!   edits alike, at the cost of one small directory read per interval.
//! - **Presence sweep.** Every [`SWEEP_INTERVAL`] clients that stopped beating age, and the
//!   `heart_clients` gauge stays current between scrapes.
//! - **Idle memory.** A pooled slot keeps up to [`crate::runtime::engine::KEEP_RESIDENT_BYTES`]
//!   of guest memory resident after its instance ends, so the next instance in it is cheap; a
//!   burst of large renders (`/heart.png?size=1024`) warms many slots at once, and glibc keeps
//!   the host's freed buffers in its arenas. Neither shrinks by itself. Every
//!   [`RECLAIM_INTERVAL`], while fewer than half of the pool's instances are live (so taking
//!   warm slots out for a moment cannot starve a request of one), the warm slots no instance
//!   uses are decommitted (`Engine::release_idle_pool_memory`) and the allocator trims its free
//!   pages. Under steady load this costs each slot a few page faults per interval.
//! - **New code** (`--watch` only). Every [`POLL_INTERVAL`] each component's Wasm file is
//!   looked at; new bytes are compiled on a blocking thread and swapped in ([`super::swap`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::app::App;
use crate::app::swap::Swap;
use crate::config::dir;

/// The running loops; they stop when this is dropped.
#[derive(Debug)]
pub(crate) struct Background {
    tasks: [JoinHandle<()>; 4],
}

impl Background {
    /// Starts `app`'s loops on the current Tokio runtime.
    pub(crate) fn start(app: &Arc<App>) -> Self {
        Self {
            tasks: [
                tokio::spawn(watch_config(app.clone(), POLL_INTERVAL)),
                tokio::spawn(sweep_presence(app.clone(), SWEEP_INTERVAL)),
                tokio::spawn(reclaim(app.clone(), RECLAIM_INTERVAL)),
                tokio::spawn(watch_components(app.clone(), POLL_INTERVAL)),
            ],
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// How often the directory is read; a change is live within this plus a request.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Watches `app`'s config directory until the task is dropped: a valid change is applied for
/// new requests; an invalid one is rejected whole, logged with the bad key and value, and
/// counted, while the last good config keeps serving. Each distinct state is acted on once.
async fn watch_config(app: Arc<App>, interval: Duration) {
    let Some(dir) = app.config().dir().map(ToOwned::to_owned) else {
        return;
    };
    // What the directory held when last acted on (the values, or the error text), starting
    // from what the app applied at load so a change made since then is not missed.
    let mut last: Result<dir::ConfigDirValues, String> = Ok(app.config().dir_values());
    loop {
        tokio::time::sleep(interval).await;
        let current = dir::read(&dir).map_err(|e| e.to_string());
        if current == last {
            continue;
        }
        let outcome = current
            .clone()
            .and_then(|values| app.apply_config_dir(&values).map_err(|e| e.to_string()));
        match outcome {
            Ok(generation) => {
                app.metrics()
                    .config_reloads
                    .with_label_values(&["ok"])
                    .inc();
                tracing::info!(generation, dir = %dir.display(), "config reloaded");
            }
            Err(e) => {
                app.metrics()
                    .config_reloads
                    .with_label_values(&["failed"])
                    .inc();
                tracing::warn!(error = %e, "config reload rejected; keeping the last good config");
            }
        }
        last = current;
    }
}

/// With `--watch`, swaps each component's new code in when its file changes, until the task is
/// dropped; a file that does not load is logged and the last good code keeps serving.
async fn watch_components(app: Arc<App>, interval: Duration) {
    if !app.swappable() {
        return;
    }
    loop {
        tokio::time::sleep(interval).await;
        for slot in 0..app.components.len() {
            let swapping = app.clone();
            // Compiling takes seconds of CPU: off the async workers.
            let swapped = tokio::task::spawn_blocking(move || swapping.swap_if_changed(slot)).await;
            let component = || {
                app.component(slot)
                    .map(|c| c.id.clone())
                    .unwrap_or_default()
            };
            match swapped {
                Ok(Ok(Swap::Unchanged)) => {}
                Ok(Ok(Swap::Swapped { load_time })) => {
                    tracing::info!(
                        component = component(),
                        ?load_time,
                        "new code swapped in; running requests finish on the old"
                    );
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "new code refused; the last good code keeps serving");
                }
                Err(e) => {
                    tracing::warn!(error = %e, component = component(), "swapping new code failed")
                }
            }
        }
    }
}

/// How often the presence table is swept.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Sweeps `app`'s presence table every `interval` until the task is dropped, keeping the
/// `heart_clients` gauge current between scrapes.
async fn sweep_presence(app: Arc<App>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let presence = app.presence();
        let expired = presence.sweep(presence.now_ms());
        if expired > 0 {
            tracing::debug!(expired, "presence sweep forgot silent clients");
        }
        app.record_presence();
    }
}

/// How often idle memory is given back.
pub const RECLAIM_INTERVAL: Duration = Duration::from_secs(2);

/// Gives idle memory back every `interval` for as long as the server runs.
async fn reclaim(app: Arc<App>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if !app.mostly_idle() {
            continue;
        }
        let app = app.clone();
        // Trimming walks the allocator's arenas under their locks: off the async workers.
        let released = tokio::task::spawn_blocking(move || app.release_idle_memory()).await;
        if let Ok(bytes) = released
            && bytes > 0
        {
            tracing::debug!(bytes, "released idle pool memory");
        }
    }
}

//! Giving memory back once a burst is over: the pool's warm slots and the allocator's free pages.
//!
//! A pooled slot keeps up to [`crate::runtime::engine::KEEP_RESIDENT_BYTES`] of guest memory resident
//! after its instance ends, so the next instance in it is cheap; a burst of large renders
//! (`/heart.png?size=1024`) warms many slots at once, and glibc keeps the host's freed buffers
//! in its arenas. Neither shrinks by itself. Every [`RECLAIM_INTERVAL`], while fewer than half
//! of the pool's instances are live (so taking warm slots out for a moment cannot starve a
//! request of one), the warm slots no instance uses are decommitted
//! (`Engine::release_idle_pool_memory`) and the allocator trims its free pages. Under steady
//! load this costs each slot a few page faults per interval.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;

/// How often idle memory is given back.
pub const RECLAIM_INTERVAL: Duration = Duration::from_secs(2);

/// Gives idle memory back every `interval` for as long as the server runs.
pub(crate) async fn watch(app: Arc<App>, interval: Duration) {
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

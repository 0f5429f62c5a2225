//! Hot reload of the config directory. Kubernetes swaps a ConfigMap mount's `..data` symlink
//! rather than editing files, which inotify-style watchers see only as events on hidden
//! entries; polling the visible files and comparing contents handles that and plain edits
//! alike, at the cost of one small directory read per interval.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::config::dir;

/// How often the directory is read; a change is live within this plus a request.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Watches `app`'s config directory until the task is dropped: a valid change is applied for
/// new requests; an invalid one is rejected whole, logged with the bad key and value, and
/// counted, while the last good config keeps serving. Each distinct state is acted on once.
pub async fn watch(app: Arc<App>, interval: Duration) {
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

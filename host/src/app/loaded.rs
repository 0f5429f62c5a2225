//! A loaded application: its routes, its [`Component`]s ready to serve, their variables in
//! one [`LayeredConfig`], and what the host keeps beside them (metrics, presence).

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use heart_core::{AlertThreshold, Bpm, Field};

use crate::app::AppError;
use crate::app::routes::Routes;
use crate::app::sources::Sources;
use crate::config::LayeredConfig;
use crate::config::dir::ConfigDirValues;
use crate::instance::{Closing, Component};
use crate::metrics::Metrics;
use crate::presence::Presence;
use crate::runtime::engine::{EpochTicker, HostEngine};
use crate::runtime::heap;
use crate::traces::Tracer;

/// A loaded application.
#[derive(Debug)]
pub struct App {
    /// `[application] name`.
    pub name: String,
    /// Each `[[trigger.http]] route` and the slot of its component.
    pub(super) routes: Routes,
    /// By slot (the components' order in `config`): each component as it serves now. A
    /// request holds the one it started with, so swapping one in (`--watch`,
    /// [`super::swap`]) lets it finish on the old code.
    pub(super) components: Vec<ArcSwap<Component>>,
    /// What a component is reloaded from; `None` where it cannot be (the shim's single
    /// component, given as bytes).
    pub(super) sources: Option<Sources>,
    pub(super) config: Arc<LayeredConfig>,
    pub(super) metrics: Arc<Metrics>,
    /// Where requests' spans go; `None` when traces are off.
    pub(super) tracer: Option<Tracer>,
    pub(super) presence: Presence,
    /// Whether open streams are asked to end (shutdown).
    pub(super) closing: Closing,
    pub(super) engine: HostEngine,
    /// The pool's size ([`EngineOptions::max_instances`]).
    pub(super) max_instances: u32,
    pub(super) _ticker: EpochTicker,
}

impl App {
    /// Asks every open stream (`/live`) to end with its closing frame: the server is shutting
    /// down.
    pub fn close_streams(&self) {
        self.closing.close();
    }

    /// The component serving `path`, by Spin's rules: exact routes beat wildcards, and longer
    /// wildcard prefixes beat shorter ones.
    pub fn route(&self, path: &str) -> Option<Arc<Component>> {
        self.matched_route(path).map(|(_, component)| component)
    }

    /// The manifest route (as written, e.g. `/...`) that `path` matched, and its component:
    /// what requests are labelled by in the metrics, as Spin labels them.
    pub(crate) fn matched_route(&self, path: &str) -> Option<(&str, Arc<Component>)> {
        let (written, slot) = self.routes.matched(path)?;
        Some((written, self.components[slot].load_full()))
    }

    /// The host's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Where requests' spans go; `None` when traces are off (no `OTEL_EXPORTER_OTLP_*`
    /// endpoint).
    pub fn tracer(&self) -> Option<&Tracer> {
        self.tracer.as_ref()
    }

    /// The client presence table.
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// Sets the `heart_clients` gauge from the presence table's counts now (on a scrape and
    /// after each sweep).
    pub(crate) fn record_presence(&self) {
        let counts = self.presence.counts();
        self.metrics.record_presence(|state| counts.get(state));
    }

    /// Sets `heart_wasm_pool_resident_bytes` from the pooling allocator (on a scrape).
    pub(crate) fn record_pool(&self) {
        if let Some(pool) = self.engine.engine.pooling_allocator_metrics() {
            let bytes = pool.unused_memory_bytes_resident();
            self.metrics
                .pool_resident_bytes
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }

    /// The live configuration.
    pub fn config(&self) -> &LayeredConfig {
        &self.config
    }

    /// Re-layers every component's variables with new config-directory `values`, all or
    /// nothing: on error no component changes. Returns the new config generation.
    pub(crate) fn apply_config_dir(&self, values: &ConfigDirValues) -> Result<u64, AppError> {
        let generation = self.config.apply_dir(values.clone())?;
        self.config_applied();
        Ok(generation)
    }

    /// What follows the config: the presence alert threshold and the config gauges.
    pub(super) fn config_applied(&self) {
        let app_values = self.config.app_values();
        self.presence
            .set_alert_threshold(alert_threshold(&app_values));
        self.metrics.config_bpm.set(configured_bpm(&app_values));
        let generation = self.config.generation();
        self.metrics
            .config_generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
        self.metrics.mark_config_applied();
    }

    /// The current config generation (1 at start, +1 per applied reload).
    pub fn config_generation(&self) -> u64 {
        self.config.generation()
    }

    /// Every component, as each serves now.
    pub fn components(&self) -> Vec<Arc<Component>> {
        self.components.iter().map(ArcSwap::load_full).collect()
    }

    /// The component in `slot` (the order the manifest's routes first name them), as it
    /// serves now.
    pub fn component(&self, slot: usize) -> Option<Arc<Component>> {
        self.components.get(slot).map(ArcSwap::load_full)
    }

    /// The start-up check both entry points run: every component's variables, as requests
    /// will see them, are valid heart-display settings (love level, bpm, colour, size, alert
    /// threshold in range). A later bad reload keeps the last good values; a bad start does
    /// not start.
    pub fn check_heart_variables(&self) -> Result<(), AppError> {
        Ok(self.config.check_heart_settings()?)
    }

    /// Whether the engine uses the pooling allocator.
    pub fn pooling(&self) -> bool {
        self.engine.pooling
    }

    /// Whether fewer than half of the pool's instances are live.
    pub(crate) fn mostly_idle(&self) -> bool {
        let live = u64::try_from(self.metrics.active_instances.get()).unwrap_or(0);
        live.saturating_mul(2) < u64::from(self.max_instances)
    }

    /// Decommits the pool's warm slots that no instance uses and returns the allocator's free
    /// pages to the system ([`super::background`]); the guest bytes released.
    pub(crate) fn release_idle_memory(&self) -> usize {
        let released = self.engine.engine.release_idle_pool_memory();
        heap::return_free_memory();
        released
    }
}

/// The heart rate among the app's variables (`bpm`); heart-core's default when the app declares
/// none.
fn configured_bpm(app_values: &BTreeMap<String, String>) -> i64 {
    let bpm = app_values
        .get(Field::Bpm.variable())
        .and_then(|v| Bpm::parse(v).ok())
        .unwrap_or_default();
    i64::from(bpm.get())
}

/// The presence alert threshold among the app's variables (`alert_threshold`); the default when
/// the app declares none. Values were validated when the layers were read.
fn alert_threshold(app_values: &BTreeMap<String, String>) -> AlertThreshold {
    app_values
        .get(Field::AlertThreshold.variable())
        .and_then(|v| AlertThreshold::parse(v).ok())
        .unwrap_or_default()
}

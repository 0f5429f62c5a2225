//! A loaded application: `spin.toml` → routes → [`Component`]s ready to serve, their variables
//! held in one [`LiveConfig`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use heart_core::runtime::POD_NAME_VARIABLE;
use heart_core::{AlertThreshold, Bpm, Field};

use crate::config::dir::ConfigDirValues;
use crate::config::{ComponentConfig, ConfigError, LiveConfig};
use crate::http::route_pattern::RoutePattern;
use crate::instance::component::{LoadContext, LoadError};
use crate::instance::{Closing, Component, InstancePolicy, WasiHttpVersion};
use crate::manifest::{Manifest, ManifestError, RouteDecl, SourceDecl};
use crate::ops::metrics::{Identity, Metrics};
use crate::ops::presence::Presence;
use crate::runtime::engine::{self, EngineOptions, EpochTicker, HostEngine};
use crate::runtime::wasm_kind::{self, WasmKind};
use crate::runtime::{heap, linker};
use crate::variables;

/// Why an app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The manifest is unreadable or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The variables, the config directory or a component's heart-display settings are
    /// invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A component's Wasm file could not be read.
    #[error(
        "component `{component}`: reading {path}: {source} (build it first: `cargo xtask build`)"
    )]
    ReadWasm {
        /// The component id.
        component: String,
        /// The Wasm path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Wasmtime rejected the component (compile, link or export check).
    #[error("component `{component}` ({path}): {message}")]
    Wasm {
        /// The component id.
        component: String,
        /// The Wasm path.
        path: PathBuf,
        /// Wasmtime's message with its causes.
        message: String,
    },
    /// A build command failed.
    #[error("component `{component}`: build command `{command}` {outcome}")]
    Build {
        /// The component id.
        component: String,
        /// The command.
        command: String,
        /// What happened.
        outcome: String,
    },
    /// The engine could not be created.
    #[error("creating the Wasmtime engine: {0}")]
    Engine(String),
    /// Metrics could not be registered.
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// How to load an app.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Path of `spin.toml`.
    pub manifest: PathBuf,
    /// Where precompiled components are kept (`None` disables the cache).
    pub cache_dir: Option<PathBuf>,
    /// Engine sizing.
    pub engine: EngineOptions,
    /// A config directory (one file per key, e.g. a mounted ConfigMap) layered between the
    /// manifest's defaults and `SPIN_VARIABLE_*`.
    pub config_dir: Option<PathBuf>,
    /// Per-instance limits and reuse.
    pub policy: InstancePolicy,
}

/// A loaded application.
#[derive(Debug)]
pub struct App {
    /// `[application] name`.
    pub name: String,
    /// Each `[[trigger.http]] route` as written, parsed, and the slot of its component.
    routes: Vec<(String, RoutePattern, usize)>,
    /// By slot: the components' order in `config`.
    components: Vec<Component>,
    config: Arc<LiveConfig>,
    metrics: Arc<Metrics>,
    presence: Presence,
    /// Whether open streams are asked to end (shutdown).
    closing: Closing,
    engine: HostEngine,
    /// The pool's size ([`EngineOptions::max_instances`]).
    max_instances: u32,
    _ticker: EpochTicker,
}

impl App {
    /// Loads `options.manifest` with variables overridden from the process environment.
    pub fn load(options: &AppOptions) -> Result<Self, AppError> {
        Self::load_with_env(options, |k| std::env::var(k).ok())
    }

    /// Loads the app, looking `SPIN_VARIABLE_*` overrides up with `env`.
    pub fn load_with_env<F>(options: &AppOptions, env: F) -> Result<Self, AppError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let manifest = Manifest::load(&options.manifest)?;
        let base = manifest_dir(&options.manifest);
        Self::from_manifest(manifest, &base, options, env, &|path| std::fs::read(path))
    }

    /// An app of one WASI HTTP component serving every route (`/...`), with heart-display's
    /// variables and defaults ([`Manifest::single_component`]) and `environment` as its WASI
    /// environment: how the containerd shim serves a container's Wasm. `options.manifest` is
    /// not read.
    pub(crate) fn single_component<F>(
        name: &str,
        wasm: &[u8],
        environment: BTreeMap<String, String>,
        options: &AppOptions,
        env: F,
    ) -> Result<Self, AppError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let manifest = Manifest::single_component(name, environment);
        Self::from_manifest(manifest, Path::new("/"), options, env, &|_| {
            Ok(wasm.to_vec())
        })
    }

    /// Loads the components `manifest` names (paths relative to `base`, read with `read`).
    fn from_manifest<F>(
        manifest: Manifest,
        base: &Path,
        options: &AppOptions,
        env: F,
        read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, AppError>
    where
        F: Fn(&str) -> Option<String>,
    {
        // Each routed component gets a slot, in the order the routes first name it.
        let mut ids: Vec<&str> = Vec::new();
        let mut routes = Vec::new();
        for trigger in &manifest.trigger.http {
            let RouteDecl::Path(route) = &trigger.route else {
                continue;
            };
            let id = trigger.component.as_str();
            let slot = ids
                .iter()
                .position(|known| *known == id)
                .unwrap_or_else(|| {
                    ids.push(id);
                    ids.len() - 1
                });
            routes.push((route.clone(), RoutePattern::parse(route), slot));
        }
        // Each slot's Wasm, with its path.
        let wasms = read_sources(&manifest, &ids, base, read)?;
        // WASI 0.3 needs Wasmtime's concurrency support, which costs every host call (a task per
        // call) and every instantiation: it is on only when a component needs it.
        let concurrent = wasms.iter().any(|(_, wasm)| {
            matches!(
                wasm_kind::classify(wasm),
                Ok(WasmKind::Http(WasiHttpVersion::P3))
            )
        });
        let engine = engine::build(options.engine, concurrent)
            .map_err(|e| AppError::Engine(format!("{e:#}")))?;
        let linker = linker::build(&engine.engine, concurrent)
            .map_err(|e| AppError::Engine(format!("{e:#}")))?;
        let metrics = Arc::new(Metrics::new(&Identity::from_env(&env))?);
        let templates = ids
            .iter()
            .map(|id| ((*id).to_owned(), manifest.component[*id].variables.clone()))
            .collect();
        let config = Arc::new(LiveConfig::new(
            manifest.variables.clone(),
            variables::env_overrides(&manifest.variables, &env),
            options.config_dir.clone(),
            templates,
        )?);
        let closing = Closing::default();
        let context = LoadContext {
            engine: &engine.engine,
            linker: &linker,
            cache_dir: options.cache_dir.as_deref(),
            policy: options.policy,
            metrics: &metrics,
            closing: &closing,
        };
        let components = ids
            .iter()
            .zip(&wasms)
            .enumerate()
            .map(|(slot, (id, (path, wasm)))| {
                Component::load(
                    &context,
                    id,
                    (path, wasm),
                    ComponentConfig::new(config.clone(), slot),
                    guest_environment(&manifest.component[*id].environment, &env),
                )
                .map_err(|LoadError(message)| AppError::Wasm {
                    component: (*id).to_owned(),
                    path: path.clone(),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Compiling is done: what the compiler freed goes back to the system.
        heap::return_free_memory();
        let ticker = EpochTicker::start(engine.engine.clone());
        let app = Self {
            name: manifest.application.name,
            routes,
            components,
            config,
            metrics,
            presence: Presence::default(),
            closing,
            engine,
            max_instances: options.engine.max_instances,
            _ticker: ticker,
        };
        app.config_applied();
        Ok(app)
    }

    /// Asks every open stream (`/live`) to end with its closing frame: the server is shutting
    /// down.
    pub fn close_streams(&self) {
        self.closing.close();
    }

    /// The component serving `path`, by Spin's rules: exact routes beat wildcards, and longer
    /// wildcard prefixes beat shorter ones.
    pub fn route(&self, path: &str) -> Option<&Component> {
        self.matched_route(path).map(|(_, component)| component)
    }

    /// The manifest route (as written, e.g. `/...`) that `path` matched, and its component:
    /// what requests are labelled by in the metrics, as Spin labels them.
    pub(crate) fn matched_route(&self, path: &str) -> Option<(&str, &Component)> {
        self.routes
            .iter()
            .filter_map(|(written, pattern, slot)| {
                pattern.specificity(path).map(|s| (s, written, *slot))
            })
            .max_by_key(|(s, _, _)| *s)
            .map(|(_, written, slot)| (written.as_str(), &self.components[slot]))
    }

    /// The host's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The client presence table.
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// The live configuration.
    pub fn config(&self) -> &LiveConfig {
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
    fn config_applied(&self) {
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

    /// Every loaded component.
    pub fn components(&self) -> &[Component] {
        &self.components
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
    /// pages to the system ([`crate::runtime::reclaim`]); the guest bytes released.
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

/// A component's WASI environment: the manifest's `declared` variables, plus the pod's name
/// (`POD_NAME` from the Kubernetes downward API, looked up with `env`) where the manifest does
/// not set it, so the component can name its pod in its frames' runtime figures.
fn guest_environment<F>(declared: &BTreeMap<String, String>, env: &F) -> BTreeMap<String, String>
where
    F: Fn(&str) -> Option<String>,
{
    let mut environment = declared.clone();
    if let Some(pod) = env(POD_NAME_VARIABLE).filter(|pod| !pod.is_empty()) {
        environment
            .entry(POD_NAME_VARIABLE.to_owned())
            .or_insert(pod);
    }
    environment
}

/// The directory component paths are relative to.
fn manifest_dir(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Reads the Wasm of each component in `ids` (the routed ones, by slot), with its path.
fn read_sources(
    manifest: &Manifest,
    ids: &[&str],
    base: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Vec<(PathBuf, Vec<u8>)>, AppError> {
    ids.iter()
        .map(|id| {
            let SourceDecl::Path(source) = &manifest.component[*id].source else {
                unreachable!("Manifest::check refuses remote sources");
            };
            let path = base.join(source);
            let wasm = read(&path).map_err(|source| AppError::ReadWasm {
                component: (*id).to_owned(),
                path: path.clone(),
                source,
            })?;
            Ok((path, wasm))
        })
        .collect()
}

/// Runs each component's `[component.<id>.build] command` (through `sh -c`, in its workdir).
pub fn build(manifest_path: &Path) -> Result<(), AppError> {
    let manifest = Manifest::load(manifest_path)?;
    let base = manifest_dir(manifest_path);
    for (id, decl) in &manifest.component {
        let Some(build) = &decl.build else { continue };
        let dir = build
            .workdir
            .as_ref()
            .map_or_else(|| base.clone(), |w| base.join(w));
        tracing::info!(component = %id, command = %build.command, dir = %dir.display(), "building");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&dir)
            .status()
            .map_err(|e| AppError::Build {
                component: id.clone(),
                command: build.command.clone(),
                outcome: format!("could not start: {e}"),
            })?;
        if !status.success() {
            return Err(AppError::Build {
                component: id.clone(),
                command: build.command.clone(),
                outcome: format!("failed with {status}"),
            });
        }
    }
    Ok(())
}

//! A loaded application: `spin.toml` → routes → pre-instantiated components, each behind a
//! [`Dispatcher`], with variables resolved and held live.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use heart_core::{AlertThreshold, Bpm, Field};
use wasmtime::component::Linker;
use wasmtime_wasi_http::handler::ProxyPre;

use crate::compile_cache::{self, CacheOutcome};
use crate::config_dir::{self, ConfigDirError, ConfigDirValues};
use crate::config_store;
use crate::dispatch::Dispatcher;
use crate::engine::{self, EngineOptions, EpochTicker, HostEngine};
use crate::handler::{ComponentHandler, InstancePolicy, WasiHttpVersion};
use crate::live_variables::LiveVariables;
use crate::manifest::{Manifest, ManifestError, RouteDecl, SourceDecl, VariableDecl};
use crate::metrics::{Identity, Metrics};
use crate::presence::Presence;
use crate::routes::RoutePattern;
use crate::state::HostState;
use crate::variables::{self, VariableError};
use crate::wasm_kind::{self, WasmKind};

/// Why an app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The manifest is unreadable or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Variables could not be resolved for a component.
    #[error("component `{component}`: {source}")]
    Variables {
        /// The component id.
        component: String,
        /// The problem.
        source: VariableError,
    },
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
    /// The config directory is unreadable or invalid.
    #[error(transparent)]
    ConfigDir(#[from] ConfigDirError),
    /// Metrics could not be registered.
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// A component's variables are not valid heart-display settings.
    #[error(
        "component `{component}` has invalid variables (from the manifest, the config directory or SPIN_VARIABLE_*): {messages}"
    )]
    InvalidVariables {
        /// The component id.
        component: String,
        /// Every problem, `; `-separated.
        messages: String,
    },
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

/// One component, ready to serve.
pub struct LoadedComponent {
    /// The component id from the manifest.
    pub id: String,
    /// The Wasm file.
    pub path: PathBuf,
    /// Requests go through this.
    pub handler: Dispatcher,
    /// Whether it came from the compile cache.
    pub cache: CacheOutcome,
    /// Time to compile or load it.
    pub load_time: Duration,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("id", &self.id)
            .field("path", &self.path)
            .field("cache", &self.cache)
            .field("load_time", &self.load_time)
            .finish_non_exhaustive()
    }
}

impl LoadedComponent {
    /// The WASI HTTP version it exports.
    pub fn version(&self) -> WasiHttpVersion {
        self.handler.state().version()
    }
}

/// A loaded application.
#[derive(Debug)]
pub struct App {
    /// `[application] name`.
    pub name: String,
    /// Each `[[trigger.http]] route` as written, parsed, and the slot of its component.
    routes: Vec<(String, RoutePattern, usize)>,
    components: Vec<LoadedComponent>,
    /// Each component's variable templates, parallel to `components`.
    templates: Vec<BTreeMap<String, String>>,
    declared: BTreeMap<String, VariableDecl>,
    env_values: BTreeMap<String, String>,
    config_dir: Option<PathBuf>,
    /// The config-directory values applied at load, where the reload watcher starts from.
    loaded_dir_values: ConfigDirValues,
    metrics: Arc<Metrics>,
    presence: Presence,
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
    pub fn single_component<F>(
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
        let wasms = read_sources(&manifest, base, read)?;
        // WASI 0.3 needs Wasmtime's concurrency support, which costs every host call (a task per
        // call) and every instantiation: it is on only when a component needs it.
        let concurrent = wasms.values().any(|(_, wasm)| {
            matches!(
                wasm_kind::classify(wasm),
                Ok(WasmKind::Http(WasiHttpVersion::P3))
            )
        });
        let engine = engine::build(options.engine, concurrent)
            .map_err(|e| AppError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::<HostState>::new(&engine.engine);
        add_interfaces(&mut linker, concurrent).map_err(|e| AppError::Engine(format!("{e:#}")))?;
        let metrics = Arc::new(Metrics::new(&Identity::from_env(&env))?);
        let env_values = variables::env_overrides(&manifest.variables, &env);
        let dir_values = match &options.config_dir {
            Some(dir) => config_dir::read(dir)?.0,
            None => BTreeMap::new(),
        };
        let app_values = variables::resolve_app(&manifest.variables, &dir_values, &env_values)
            .map_err(|source| AppError::Variables {
                component: "(application)".into(),
                source,
            })?;
        let mut templates = Vec::new();
        let loader = Loader {
            engine: &engine,
            linker: &linker,
            options,
            metrics: &metrics,
        };

        let mut components = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut routes = Vec::new();
        for trigger in &manifest.trigger.http {
            let RouteDecl::Path(route) = &trigger.route else {
                continue;
            };
            let id = trigger.component.as_str();
            let slot = match index.get(id) {
                Some(&i) => i,
                None => {
                    let decl = &manifest.component[id];
                    let values = variables::expand_component(
                        &decl.variables,
                        &app_values,
                        &manifest.variables,
                    )
                    .map_err(|source| AppError::Variables {
                        component: id.to_owned(),
                        source,
                    })?;
                    let (path, wasm) = &wasms[id];
                    let component = load_component(
                        &loader,
                        id,
                        (path, wasm),
                        Arc::new(LiveVariables::new(values)),
                        decl.environment.clone(),
                    )?;
                    components.push(component);
                    templates.push(decl.variables.clone());
                    index.insert(id, components.len() - 1);
                    components.len() - 1
                }
            };
            routes.push((route.clone(), RoutePattern::parse(route), slot));
        }
        // Compiling is done: what the compiler freed goes back to the system.
        crate::heap::return_free_memory();
        let ticker = EpochTicker::start(engine.engine.clone());
        let presence = Presence::default();
        presence.set_alert_threshold(alert_threshold(&app_values));
        metrics.config_bpm.set(configured_bpm(&app_values));
        Ok(Self {
            name: manifest.application.name,
            routes,
            components,
            templates,
            declared: manifest.variables,
            env_values,
            config_dir: options.config_dir.clone(),
            loaded_dir_values: ConfigDirValues(dir_values),
            metrics,
            presence,
            engine,
            max_instances: options.engine.max_instances,
            _ticker: ticker,
        })
    }

    /// The component serving `path`, by Spin's rules: exact routes beat wildcards, and longer
    /// wildcard prefixes beat shorter ones.
    pub fn route(&self, path: &str) -> Option<&LoadedComponent> {
        self.matched_route(path).map(|(_, component)| component)
    }

    /// The manifest route (as written, e.g. `/...`) that `path` matched, and its component:
    /// what requests are labelled by in the metrics, as Spin labels them.
    pub fn matched_route(&self, path: &str) -> Option<(&str, &LoadedComponent)> {
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

    /// The config directory, if one was given.
    pub fn config_dir(&self) -> Option<&Path> {
        self.config_dir.as_deref()
    }

    /// The config-directory values applied when the app was loaded.
    pub fn loaded_config_dir_values(&self) -> &ConfigDirValues {
        &self.loaded_dir_values
    }

    /// Re-layers every component's variables with new config-directory `values`, all or
    /// nothing: on error no component changes. Returns the new config generation.
    pub fn apply_config_dir(&self, values: &ConfigDirValues) -> Result<u64, AppError> {
        let app_values = variables::resolve_app(&self.declared, &values.0, &self.env_values)
            .map_err(|source| AppError::Variables {
                component: "(application)".into(),
                source,
            })?;
        let mut expanded = Vec::with_capacity(self.components.len());
        for (component, templates) in self.components.iter().zip(&self.templates) {
            let values = variables::expand_component(templates, &app_values, &self.declared)
                .map_err(|source| AppError::Variables {
                    component: component.id.clone(),
                    source,
                })?;
            expanded.push(values);
        }
        self.presence
            .set_alert_threshold(alert_threshold(&app_values));
        self.metrics.config_bpm.set(configured_bpm(&app_values));
        let mut generation = 0;
        for (component, values) in self.components.iter().zip(expanded) {
            generation = generation.max(component.handler.state().variables().replace(values));
        }
        self.metrics
            .config_generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
        self.metrics.mark_config_applied();
        Ok(generation)
    }

    /// The current config generation (1 at start, +1 per applied reload).
    pub fn config_generation(&self) -> u64 {
        self.components
            .iter()
            .map(|c| c.handler.state().variables().generation())
            .max()
            .unwrap_or(1)
    }

    /// Every loaded component.
    pub fn components(&self) -> &[LoadedComponent] {
        &self.components
    }

    /// The start-up check both entry points run: every component's variables, as requests
    /// will see them, are valid heart-display settings (love level, bpm, colour, size, alert
    /// threshold in range). A later bad reload keeps the last good values; a bad start does
    /// not start.
    pub fn check_heart_variables(&self) -> Result<(), AppError> {
        for component in &self.components {
            let snapshot = component.handler.state().variables().snapshot();
            if let Err(errors) = variables::heart_settings(&snapshot) {
                let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
                return Err(AppError::InvalidVariables {
                    component: component.id.clone(),
                    messages: messages.join("; "),
                });
            }
        }
        Ok(())
    }

    /// Whether the engine uses the pooling allocator.
    pub fn pooling(&self) -> bool {
        self.engine.pooling
    }

    /// Whether fewer than half of the pool's instances are live.
    pub fn mostly_idle(&self) -> bool {
        let live = u64::try_from(self.metrics.active_instances.get()).unwrap_or(0);
        live.saturating_mul(2) < u64::from(self.max_instances)
    }

    /// Decommits the pool's warm slots that no instance uses and returns the allocator's free
    /// pages to the system ([`crate::reclaim`]); the guest bytes released.
    pub fn release_idle_memory(&self) -> usize {
        let released = self.engine.engine.release_idle_pool_memory();
        crate::heap::return_free_memory();
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

/// The directory component paths are relative to.
fn manifest_dir(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Reads the Wasm of every component a route serves, by component id, with its path.
fn read_sources(
    manifest: &Manifest,
    base: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<BTreeMap<String, (PathBuf, Vec<u8>)>, AppError> {
    let mut wasms = BTreeMap::new();
    for trigger in &manifest.trigger.http {
        let id = &trigger.component;
        if !matches!(trigger.route, RouteDecl::Path(_)) || wasms.contains_key(id) {
            continue;
        }
        let SourceDecl::Path(source) = &manifest.component[id].source else {
            unreachable!("Manifest::check refuses remote sources");
        };
        let path = base.join(source);
        let wasm = read(&path).map_err(|source| AppError::ReadWasm {
            component: id.clone(),
            path: path.clone(),
            source,
        })?;
        wasms.insert(id.clone(), (path, wasm));
    }
    Ok(wasms)
}

/// WASI 0.2 (full CLI world, HTTP) plus `wasi:config/store`, and WASI 0.3 (CLI, HTTP) when the
/// engine has concurrency support.
fn add_interfaces(linker: &mut Linker<HostState>, concurrent: bool) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    if concurrent {
        wasmtime_wasi::p3::add_to_linker(linker)?;
        wasmtime_wasi_http::p3::add_to_linker(linker)?;
    }
    config_store::add_to_linker(linker)
}

/// What every component of an app is loaded with.
struct Loader<'a> {
    engine: &'a HostEngine,
    linker: &'a Linker<HostState>,
    options: &'a AppOptions,
    metrics: &'a Arc<Metrics>,
}

fn load_component(
    loader: &Loader<'_>,
    id: &str,
    (path, wasm): (&Path, &[u8]),
    variables: Arc<LiveVariables>,
    environment: BTreeMap<String, String>,
) -> Result<LoadedComponent, AppError> {
    let Loader {
        engine,
        linker,
        options,
        metrics,
    } = *loader;
    let wasm_error = |e: wasmtime::Error| AppError::Wasm {
        component: id.to_owned(),
        path: path.to_owned(),
        message: format!("{e:#}"),
    };
    let started = Instant::now();
    let (component, cache) =
        compile_cache::load(&engine.engine, wasm, options.cache_dir.as_deref())
            .map_err(wasm_error)?;
    let load_time = started.elapsed();
    let outcome = match cache {
        CacheOutcome::Hit => "cache_hit",
        CacheOutcome::Compiled => "compiled",
    };
    metrics.component_loads.with_label_values(&[outcome]).inc();
    let instance_pre = linker.instantiate_pre(&component).map_err(wasm_error)?;
    let pre = match wasmtime_wasi_http::p3::bindings::ServicePre::new(instance_pre.clone()) {
        Ok(pre) => ProxyPre::P3(pre),
        Err(_) => ProxyPre::P2(
            wasmtime_wasi_http::p2::bindings::ProxyPre::new(instance_pre).map_err(|e| {
                wasm_error(e.context(
                    "the component exports neither wasi:http/incoming-handler@0.2 nor wasi:http/handler@0.3",
                ))
            })?,
        ),
    };
    tracing::info!(component = id, path = %path.display(), ?cache, ?load_time, "component ready");
    let handler = ComponentHandler::new(
        engine.engine.clone(),
        pre,
        variables,
        environment,
        options.policy,
        metrics.clone(),
    );
    Ok(LoadedComponent {
        id: id.to_owned(),
        path: path.to_owned(),
        handler: Dispatcher::new(handler),
        cache,
        load_time,
    })
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

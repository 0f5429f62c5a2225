//! Loading an app: `spin.toml` (or the shim's single component) → routes → components, with
//! one engine, linker, metrics registry and layered config for all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use heart_core::runtime::POD_NAME_VARIABLE;

use crate::app::routes::Routes;
use crate::app::sources::{SlotSource, Sources};
use crate::app::{App, AppError};
use crate::config::{ComponentConfig, LayeredConfig};
use crate::instance::component::{LoadContext, LoadError};
use crate::instance::{Closing, Component, InstancePolicy, WasiHttpVersion, linker};
use crate::manifest::{Manifest, RouteDecl, SourceDecl};
use crate::metrics::{Identity, Metrics, hostname};
use crate::presence::Presence;
use crate::runtime::engine::{self, EngineOptions, EpochTicker};
use crate::runtime::heap;
use crate::runtime::wasm_kind::{self, WasmKind};
use crate::settings::Settings;
use crate::traces::{KeyValue, TraceSettings, Tracer};
use crate::variables;

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
    /// Swap a component's new code in when its Wasm file changes ([`super::swap`]); only for
    /// an app loaded from a manifest's files.
    pub watch: bool,
}

impl AppOptions {
    /// The options `settings` give: `manifest` to load, the compile cache in `cache_dir`, the
    /// pooling allocator unless `pooling` is off.
    pub fn from_settings(
        settings: &Settings,
        manifest: PathBuf,
        cache_dir: Option<PathBuf>,
        pooling: bool,
    ) -> Self {
        Self {
            manifest,
            cache_dir,
            engine: EngineOptions {
                pooling,
                max_instances: settings.max_instances,
                max_memory_bytes: settings.memory_limit_bytes(),
            },
            config_dir: settings.config_dir.clone(),
            policy: InstancePolicy {
                memory_limit: settings.memory_limit_bytes(),
                request_timeout: Duration::from_millis(settings.request_timeout_ms),
                max_reuse: settings.instance_reuse,
                ..InstancePolicy::default()
            },
            watch: false,
        }
    }
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
        Self::from_manifest(manifest, &base, options, env, Wasms::Files)
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
        Self::from_manifest(manifest, Path::new("/"), options, env, Wasms::Given(wasm))
    }

    /// Loads the components `manifest` names (paths relative to `base`) from `wasms`.
    fn from_manifest<F>(
        manifest: Manifest,
        base: &Path,
        options: &AppOptions,
        env: F,
        wasms: Wasms<'_>,
    ) -> Result<Self, AppError>
    where
        F: Fn(&str) -> Option<String>,
    {
        // Each routed component gets a slot, in the order the routes first name it.
        let mut ids: Vec<&str> = Vec::new();
        let mut routes = Routes::default();
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
            routes.push(route, slot);
        }
        // Each slot's Wasm, with its path.
        let read = |path: &Path| match wasms {
            Wasms::Files => std::fs::read(path),
            Wasms::Given(wasm) => Ok(wasm.to_vec()),
        };
        let wasms_read = read_sources(&manifest, &ids, base, &read)?;
        // WASI 0.3 needs Wasmtime's concurrency support, which costs every host call (a task per
        // call) and every instantiation: it is on only when a component needs it.
        let concurrent = wasms_read.iter().any(|(_, wasm)| {
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
        let tracer = match TraceSettings::from_lookup(&env, &manifest.application.name)? {
            Some(settings) => Some(Tracer::start(
                &settings,
                pod_attributes(&env),
                metrics.span_counters(),
            )?),
            None => None,
        };
        let templates = ids
            .iter()
            .map(|id| ((*id).to_owned(), manifest.component[*id].variables.clone()))
            .collect();
        let config = Arc::new(LayeredConfig::new(
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
        let environments: Vec<_> = ids
            .iter()
            .map(|id| guest_environment(&manifest.component[*id].environment, &env))
            .collect();
        let components = ids
            .iter()
            .zip(&wasms_read)
            .zip(&environments)
            .enumerate()
            .map(|(slot, ((id, (path, wasm)), environment))| {
                Component::load(
                    &context,
                    id,
                    (path, wasm),
                    ComponentConfig::new(config.clone(), slot),
                    environment.clone(),
                )
                .map(ArcSwap::from_pointee)
                .map_err(|LoadError(message)| AppError::Wasm {
                    component: (*id).to_owned(),
                    path: path.clone(),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sources = (options.watch && matches!(wasms, Wasms::Files)).then(|| Sources {
            linker,
            cache_dir: options.cache_dir.clone(),
            policy: options.policy,
            slots: wasms_read
                .iter()
                .zip(environments)
                .map(|((path, wasm), environment)| SlotSource::new(environment, path, wasm))
                .collect(),
        });
        // Compiling is done: what the compiler freed goes back to the system.
        heap::return_free_memory();
        let ticker = EpochTicker::start(engine.engine.clone());
        let app = Self {
            name: manifest.application.name,
            routes,
            components,
            sources,
            config,
            metrics,
            tracer,
            presence: Presence::default(),
            closing,
            engine,
            max_instances: options.engine.max_instances,
            _ticker: ticker,
        };
        app.config_applied();
        Ok(app)
    }
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

/// The pod's identity as trace resource attributes, from the Kubernetes downward API variables
/// the chart sets (`POD_NAME`, `POD_NAMESPACE`), looked up with `env`; the host's name outside
/// a pod.
fn pod_attributes<F>(env: &F) -> Vec<KeyValue>
where
    F: Fn(&str) -> Option<String>,
{
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    match (set(POD_NAME_VARIABLE), set("POD_NAMESPACE")) {
        (None, None) => vec![KeyValue::new("host.name", hostname())],
        (pod, namespace) => pod
            .map(|pod| KeyValue::new("k8s.pod.name", pod))
            .into_iter()
            .chain(namespace.map(|ns| KeyValue::new("k8s.namespace.name", ns)))
            .collect(),
    }
}

/// Where an app's Wasm comes from.
#[derive(Clone, Copy)]
enum Wasms<'a> {
    /// The files the manifest names (which `--watch` may swap).
    Files,
    /// One component's bytes (the shim's container).
    Given(&'a [u8]),
}

/// The directory component paths are relative to.
pub(super) fn manifest_dir(manifest: &Path) -> PathBuf {
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

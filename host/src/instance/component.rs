//! One component of an app, ready to serve: compiled (or loaded from the compile cache),
//! pre-instantiated against the host's interfaces, and served by the path its WASI version
//! takes. WASI 0.2 components are called in the request's own task through the
//! [`DirectPool`]; WASI 0.3 components, whose calls may run concurrently in one instance, go
//! through `wasmtime-wasi-http`'s `ProxyHandler` workers ([`wasi_p3`]). Either way a
//! failure is answered by [`GuestFailure::answer`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Response;
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::handler::{ProxyHandler, ProxyPre, Request};

use crate::config::{ComponentConfig, Snapshot};
use crate::instance::factory::InstanceFactory;
use crate::instance::policy::{InstancePolicy, WasiHttpVersion};
use crate::instance::store::HostState;
use crate::instance::stream::Closing;
use crate::instance::timing::Timing;
use crate::instance::wasi_p2::DirectPool;
use crate::instance::wasi_p3;
use crate::metrics::Metrics;
use crate::runtime::compile_cache::{self, CacheOutcome};
use crate::runtime::node_cache;

/// What every component of an app is loaded with.
pub(crate) struct LoadContext<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) linker: &'a Linker<HostState>,
    pub(crate) cache_dir: Option<&'a Path>,
    pub(crate) policy: InstancePolicy,
    pub(crate) metrics: &'a Arc<Metrics>,
    pub(crate) closing: &'a Closing,
}

/// Why a component could not be loaded: Wasmtime's message with its causes.
#[derive(Debug)]
pub(crate) struct LoadError(pub(crate) String);

/// One component, ready to serve.
pub struct Component {
    /// The component id from the manifest.
    pub id: String,
    /// The Wasm file.
    pub path: PathBuf,
    /// Whether it came from the compile cache.
    pub cache: CacheOutcome,
    /// Time to compile or load it.
    pub load_time: Duration,
    serving: Serving,
}

/// A component's request path.
enum Serving {
    /// WASI 0.2: in the request's task, with an idle-instance pool.
    Direct(Box<DirectPool>),
    /// WASI 0.3: through `ProxyHandler`'s worker tasks.
    Worker(ProxyHandler<InstanceFactory>),
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("id", &self.id)
            .field("path", &self.path)
            .field("cache", &self.cache)
            .field("load_time", &self.load_time)
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl Component {
    /// Compiles or loads `wasm` (component `id`, from `path`), checks it exports a WASI HTTP
    /// handler, and readies its instances to read their variables from `config`.
    pub(crate) fn load(
        context: &LoadContext<'_>,
        id: &str,
        (path, wasm): (&Path, &[u8]),
        config: ComponentConfig,
        environment: BTreeMap<String, String>,
    ) -> Result<Self, LoadError> {
        let wasm_error = |e: wasmtime::Error| LoadError(format!("{e:#}"));
        let started = Instant::now();
        let (component, cache) = match node_cache::handed_over(context.engine, wasm) {
            Some(component) => (component, CacheOutcome::NodeCache),
            None => {
                compile_cache::load(context.engine, wasm, context.cache_dir).map_err(wasm_error)?
            }
        };
        let load_time = started.elapsed();
        let outcome = match cache {
            CacheOutcome::Hit => "cache_hit",
            CacheOutcome::Compiled => "compiled",
            CacheOutcome::NodeCache => "node_cache",
        };
        context
            .metrics
            .component_loads
            .with_label_values(&[outcome])
            .inc();
        let instance_pre = context
            .linker
            .instantiate_pre(&component)
            .map_err(wasm_error)?;
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
        let factory = InstanceFactory::new(
            context.engine.clone(),
            pre,
            config,
            environment,
            context.policy,
            context.metrics.clone(),
            context.closing.clone(),
        );
        let serving = match factory.pre() {
            ProxyPre::P2(pre) => {
                let pre = pre.clone();
                Serving::Direct(Box::new(DirectPool::new(factory, pre)))
            }
            ProxyPre::P3(_) => Serving::Worker(ProxyHandler::new(factory)),
        };
        Ok(Self {
            id: id.to_owned(),
            path: path.to_owned(),
            cache,
            load_time,
            serving,
        })
    }

    fn factory(&self) -> &InstanceFactory {
        match &self.serving {
            Serving::Direct(pool) => pool.factory(),
            Serving::Worker(worker) => worker.state(),
        }
    }

    /// Its WASI 0.2 instance pool (none for a WASI 0.3 component).
    #[cfg(test)]
    pub(crate) fn direct_pool(&self) -> Option<&DirectPool> {
        match &self.serving {
            Serving::Direct(pool) => Some(pool),
            Serving::Worker(_) => None,
        }
    }

    /// The WASI HTTP version it exports.
    pub fn version(&self) -> WasiHttpVersion {
        self.factory().version()
    }

    /// Its variables, as of now.
    pub fn variables(&self) -> Snapshot {
        self.factory().variables()
    }

    /// The limits its instances run under.
    pub fn policy(&self) -> InstancePolicy {
        self.factory().policy()
    }

    /// Answers `request`, with what it cost in the component; a guest that fails is logged,
    /// counted and answered with a 5xx. A stream (`/live`, `streams`) is answered with its head
    /// and a body its guest goes on writing, timed by its progress.
    pub async fn handle(&self, request: Request, streams: bool) -> (Response<WasiBody>, Timing) {
        let mut timing = Timing {
            started: Some(Instant::now()),
            ..Timing::default()
        };
        let outcome = match &self.serving {
            Serving::Direct(pool) if streams => pool.stream(&self.id, request, &mut timing).await,
            Serving::Direct(pool) => pool.handle(request, &mut timing).await,
            Serving::Worker(handler) => {
                wasi_p3::handle(handler, request, streams, &mut timing).await
            }
        };
        let response =
            outcome.unwrap_or_else(|failure| failure.answer(&self.id, self.factory().metrics()));
        (response, timing)
    }
}

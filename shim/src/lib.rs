//! The containerd shim (`containerd-shim-heart-v1`, runtime type `io.containerd.heart.v1`), laid
//! out as runwasi lays out each shim: this library and a main of a few lines. runwasi's
//! `containerd-shim-wasm` does the containerd and OCI work; [`HeartSandbox`] hands each Wasm
//! container to heart-host's [`heart_host::container::run`]. Non-Wasm (ELF or script) containers, such as a
//! pod's pause container, run as ordinary Linux containers (runwasi decides that before asking
//! this sandbox).

pub mod dead_shim;
pub mod node_cache;

use containerd_shim_wasm::sandbox::Sandbox;
use containerd_shim_wasm::sandbox::context::RuntimeContext;
use containerd_shim_wasm::shim::{Shim, Version, version};

use heart_host::container::{self, ContainerProcess};
use heart_host::runtime::wasm_kind;

/// The shim: its name is the `<name>` in `containerd-shim-<name>-v1`.
#[derive(Debug)]
pub struct HeartShim;

impl Shim for HeartShim {
    type Sandbox = HeartSandbox;

    fn name() -> &'static str {
        "heart"
    }

    fn version() -> Version {
        version!()
    }
}

/// Runs one Wasm container (inside the container's namespaces, after its root is set up).
#[derive(Debug, Default, Clone, Copy)]
pub struct HeartSandbox;

impl Sandbox for HeartSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> anyhow::Result<i32> {
        let entrypoint = ctx.entrypoint();
        let process = ContainerProcess {
            name: entrypoint.name.unwrap_or_else(|| "app".to_owned()),
            args: ctx.args().to_vec(),
            env: ctx.envs().to_vec(),
        };
        init_logging(&process);
        let wasm = entrypoint.source.as_bytes()?;
        // PID 1 in its namespace gets no default signal handlers: `shutdown_signal` installs
        // them, so `ctr task kill` (SIGTERM) stops the server gracefully.
        let shutdown = heart_host::http::shutdown_signal();
        match container::run(&wasm, &process, shutdown, |_| {}).await {
            Ok(code) => Ok(code),
            Err(e) => {
                // The container's stderr: what `ctr run` and `kubectl logs` show.
                eprintln!("heart: {e}");
                Ok(1)
            }
        }
    }

    async fn can_handle(&self, ctx: &impl RuntimeContext) -> anyhow::Result<()> {
        let wasm = ctx.entrypoint().source.as_bytes()?;
        let kind = wasm_kind::classify(&wasm)?;
        match kind.refusal() {
            None => Ok(()),
            Some(reason) => anyhow::bail!("heart cannot run this Wasm: {reason}"),
        }
    }
}

/// Logs to the container's stderr (`HEART_LOG_FORMAT=json` for JSON; `RUST_LOG` filters).
fn init_logging(process: &ContainerProcess) {
    let filter = process
        .lookup("RUST_LOG")
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    // Ignored when a subscriber is already set (a second container in the same process).
    let _ = if process.lookup("HEART_LOG_FORMAT").as_deref() == Some("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

//! `heart-host`: the command line over the heart-host library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use heart_host::container::defaults;
use heart_host::engine::EngineOptions;
use heart_host::{App, AppOptions, InstancePolicy, ServerOptions};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Runs heart-display (a Spin-manifest app of Wasm components) on Wasmtime"
)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "HEART_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the app described by a spin.toml (like `spin up`).
    Up(UpArgs),
    /// Check a config directory (one file per key, e.g. a mounted ConfigMap): exit 0 when
    /// valid, 1 with one message per bad entry otherwise. Used as a pre-start check.
    ValidateConfig {
        /// The directory.
        dir: PathBuf,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

/// A TLS certificate/key pair (both or neither).
#[derive(Debug, Args)]
struct TlsArgs {
    /// PEM certificate chain for HTTPS (e.g. a mounted Secret's tls.crt).
    #[arg(long, env = "HEART_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (e.g. tls.key).
    #[arg(long, env = "HEART_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

impl TlsArgs {
    fn files(&self) -> Option<heart_host::tls::TlsFiles> {
        Some(heart_host::tls::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
        })
    }
}

#[derive(Debug, Args)]
struct UpArgs {
    /// The Spin manifest.
    #[arg(long = "from", short = 'f', default_value = "spin.toml")]
    manifest: PathBuf,
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:3000", env = "HEART_LISTEN")]
    listen: SocketAddr,
    /// Run each component's build command first.
    #[arg(long)]
    build: bool,
    /// Config directory (files `love-level`, `bpm`, `color`, `size`, `alert-threshold`, as a
    /// mounted ConfigMap), layered over spin.toml defaults and under SPIN_VARIABLE_*; watched
    /// for changes, which apply without a restart.
    #[arg(long, env = "HEART_CONFIG_DIR")]
    config_dir: Option<PathBuf>,
    /// Directory for precompiled components.
    #[arg(long, env = "HEART_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every start instead of using the cache.
    #[arg(long)]
    no_cache: bool,
    /// Instances the pool holds (and the most requests served at once).
    #[arg(long, default_value_t = defaults::MAX_INSTANCES, env = "HEART_MAX_INSTANCES")]
    max_instances: u32,
    /// Use on-demand instance allocation instead of the pooling allocator.
    #[arg(long)]
    no_pooling: bool,
    /// Largest guest linear memory, in MiB.
    #[arg(long, default_value_t = defaults::MEMORY_LIMIT_MB, env = "HEART_MEMORY_LIMIT_MB")]
    memory_limit_mb: usize,
    /// Longest a request may run in the guest, in milliseconds.
    #[arg(long, default_value_t = defaults::REQUEST_TIMEOUT_MS, env = "HEART_REQUEST_TIMEOUT_MS")]
    request_timeout_ms: u64,
    /// Requests one instance serves before it is dropped (1 = fresh instance per request).
    #[arg(long, default_value_t = defaults::INSTANCE_REUSE, env = "HEART_INSTANCE_REUSE")]
    instance_reuse: usize,
    /// Seconds to let in-flight requests finish on SIGTERM/SIGINT.
    #[arg(long, default_value_t = defaults::SHUTDOWN_GRACE_SECS, env = "HEART_SHUTDOWN_GRACE_SECS")]
    shutdown_grace_secs: u64,
    /// Leave out the presence service (`GET /api/presence`, `POST /api/beat`): the component
    /// answers those paths, as under Spin, and pages do not send beats.
    #[arg(long)]
    no_presence: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Up(args) => up(args),
        Command::ValidateConfig { dir, tls } => validate_config(&dir, tls.files().as_ref()),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn up(args: UpArgs) -> Result<()> {
    if args.build {
        heart_host::app::build(&args.manifest).context("building the app")?;
    }
    let max_instances = args.max_instances.max(1);
    let options = AppOptions {
        manifest: args.manifest.clone(),
        cache_dir: if args.no_cache {
            None
        } else {
            args.cache_dir
                .clone()
                .or_else(heart_host::compile_cache::default_dir)
        },
        engine: EngineOptions {
            pooling: !args.no_pooling,
            max_instances,
            max_memory_bytes: args.memory_limit_mb << 20,
        },
        config_dir: args.config_dir.clone(),
        policy: InstancePolicy {
            memory_limit: args.memory_limit_mb << 20,
            request_timeout: Duration::from_millis(args.request_timeout_ms),
            max_reuse: args.instance_reuse,
            ..InstancePolicy::default()
        },
    };
    let tls = match args.tls.files() {
        Some(files) => {
            let (config, summary) =
                heart_host::tls::server_config(&files).context("loading the TLS certificate")?;
            tracing::info!(subject = %summary.subject, not_after = %summary.not_after, "serving HTTPS");
            Some(config)
        }
        None => None,
    };
    let app =
        App::load(&options).with_context(|| format!("loading {}", args.manifest.display()))?;
    check_heart_variables(&app)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("reading the listen address")?;
        // Tests and scripts read this line to find the port.
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("heart-host listening on {scheme}://{address}/");
        let server = ServerOptions {
            max_concurrent_requests: max_instances as usize,
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
            tls,
            presence: !args.no_presence,
            ..ServerOptions::default()
        };
        heart_host::serve(
            listener,
            Arc::new(app),
            server,
            heart_host::server::shutdown_signal(),
        )
        .await
        .context("serving")
    })
}

/// `validate-config`: the config directory and, when named, the TLS pair; every problem is
/// printed before the non-zero exit.
fn validate_config(dir: &std::path::Path, tls: Option<&heart_host::tls::TlsFiles>) -> Result<()> {
    let mut problems = 0;
    match heart_host::config_dir::read(dir) {
        Ok(values) => {
            let shown: Vec<String> = values.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "config directory {} is valid: {}",
                dir.display(),
                shown.join(" ")
            );
        }
        Err(heart_host::config_dir::ConfigDirError::Invalid {
            path,
            problems: found,
        }) => {
            for problem in &found {
                eprintln!("{}: {problem}", path.display());
            }
            problems += found.len();
        }
        Err(e) => {
            eprintln!("{e}");
            problems += 1;
        }
    }
    if let Some(files) = tls {
        match heart_host::tls::check(files, std::time::SystemTime::now()) {
            Ok(summary) => println!(
                "TLS certificate {} is valid: {} until {}, matching key {}",
                files.cert.display(),
                summary.subject,
                summary.not_after,
                files.key.display()
            ),
            Err(e) => {
                eprintln!("{e}");
                problems += 1;
            }
        }
    }
    if problems > 0 {
        bail!("validation found {problems} problem(s)");
    }
    Ok(())
}

/// Validates the heart-display settings among the components' variables, so a bad value stops
/// the start with a clear message instead of failing every request.
fn check_heart_variables(app: &App) -> Result<()> {
    for component in app.components() {
        let snapshot = component.handler.state().variables().snapshot();
        if let Err(errors) = heart_host::variables::heart_settings(&snapshot) {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            bail!(
                "component `{}` has invalid variables (from spin.toml or SPIN_VARIABLE_*): {}",
                component.id,
                messages.join("; ")
            );
        }
    }
    Ok(())
}

//! `heart-host`: the command line over the heart-host library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use heart_host::App;
use heart_host::settings::{self, Settings};

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
    Up(Box<UpArgs>),
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
    fn files(&self) -> Option<heart_host::http::tls::TlsFiles> {
        Some(heart_host::http::tls::TlsFiles {
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
    config_dir: Option<String>,
    /// Directory for precompiled components [default: ~/.cache/heart-display/components].
    #[arg(long, env = "HEART_CACHE_DIR")]
    cache_dir: Option<String>,
    /// Compile every start instead of using the cache.
    #[arg(long)]
    no_cache: bool,
    /// Instances the pool holds (and the most requests served at once), 1..=100000
    /// [default: 256].
    #[arg(long, env = "HEART_MAX_INSTANCES")]
    max_instances: Option<String>,
    /// Use on-demand instance allocation instead of the pooling allocator.
    #[arg(long)]
    no_pooling: bool,
    /// Largest guest linear memory, in MiB, 1..=4096 [default: 64].
    #[arg(long, env = "HEART_MEMORY_LIMIT_MB")]
    memory_limit_mb: Option<String>,
    /// Longest a request may run in the guest, in milliseconds, 1..=3600000 [default: 10000].
    #[arg(long, env = "HEART_REQUEST_TIMEOUT_MS")]
    request_timeout_ms: Option<String>,
    /// Requests one instance serves before it is dropped (1 = fresh instance per request),
    /// 1..=1000000 [default: 1].
    #[arg(long, env = "HEART_INSTANCE_REUSE")]
    instance_reuse: Option<String>,
    /// Seconds to let in-flight requests finish on SIGTERM/SIGINT, 0..=3600 [default: 10].
    #[arg(long, env = "HEART_SHUTDOWN_GRACE_SECS")]
    shutdown_grace_secs: Option<String>,
    /// Streams (`/live`) open at once; more get 503 with Retry-After, 0..=10000
    /// [default: 32].
    #[arg(long, env = "HEART_MAX_STREAMS")]
    max_streams: Option<String>,
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
        Command::Up(args) => up(*args),
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
    // The flags (each falling back to its HEART_* variable, through clap) are read through
    // the same definitions, defaults and ranges as a container's environment under the shim.
    let settings = Settings::from_lookup(|name| {
        match name {
            settings::CONFIG_DIR => &args.config_dir,
            settings::CACHE_DIR => &args.cache_dir,
            n if n == settings::MAX_INSTANCES.name => &args.max_instances,
            n if n == settings::MEMORY_LIMIT_MB.name => &args.memory_limit_mb,
            n if n == settings::REQUEST_TIMEOUT_MS.name => &args.request_timeout_ms,
            n if n == settings::INSTANCE_REUSE.name => &args.instance_reuse,
            n if n == settings::SHUTDOWN_GRACE_SECS.name => &args.shutdown_grace_secs,
            n if n == settings::MAX_STREAMS.name => &args.max_streams,
            _ => &None,
        }
        .clone()
    })?;
    let cache_dir = if args.no_cache {
        None
    } else {
        settings
            .cache_dir
            .clone()
            .or_else(heart_host::runtime::compile_cache::default_dir)
    };
    let options = settings.app_options(args.manifest.clone(), cache_dir, !args.no_pooling);
    let tls = match args.tls.files() {
        Some(files) => {
            let (config, summary) = heart_host::http::tls::server_config(&files)
                .context("loading the TLS certificate")?;
            tracing::info!(subject = %summary.subject, not_after = %summary.not_after, "serving HTTPS");
            Some(config)
        }
        None => None,
    };
    let app =
        App::load(&options).with_context(|| format!("loading {}", args.manifest.display()))?;
    app.check_heart_variables()?;
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
        // Before the line below: from then on a SIGTERM or SIGINT means a graceful stop.
        let shutdown = heart_host::http::shutdown_signal();
        // Tests and scripts read this line to find the port.
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("heart-host listening on {scheme}://{address}/");
        let server = heart_host::ServerOptions {
            tls,
            presence: !args.no_presence,
            ..settings.server_options()
        };
        heart_host::serve(listener, Arc::new(app), server, shutdown)
            .await
            .context("serving")
    })
}

/// `validate-config`: the config directory and, when named, the TLS pair; every problem is
/// printed before the non-zero exit.
fn validate_config(
    dir: &std::path::Path,
    tls: Option<&heart_host::http::tls::TlsFiles>,
) -> Result<()> {
    let mut problems = 0;
    match heart_host::config::dir::read(dir) {
        Ok(values) => {
            let shown: Vec<String> = values.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "config directory {} is valid: {}",
                dir.display(),
                shown.join(" ")
            );
        }
        Err(heart_host::config::dir::ConfigDirError::Invalid {
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
        match heart_host::http::tls::check(files, std::time::SystemTime::now()) {
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

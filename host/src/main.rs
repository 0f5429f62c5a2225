//! `heart-host`: the command line over the heart-host library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use heart_host::settings::{self, Settings};
use heart_host::{App, AppOptions};

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

/// `up`'s own flags; the settings' flags are added from [`settings::TABLE`] ([`cli`]).
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
    /// Compile every start instead of using the cache.
    #[arg(long)]
    no_cache: bool,
    /// Use on-demand instance allocation instead of the pooling allocator.
    #[arg(long)]
    no_pooling: bool,
    /// Swap a component's new code in when its Wasm file changes (what `cargo xtask watch`
    /// runs): running requests and streams finish on the old code; a file that does not load
    /// is logged and the last good code keeps serving.
    #[arg(long)]
    watch: bool,
    /// Leave out the presence service (`GET /api/presence`, `POST /api/beat`): the component
    /// answers those paths, as under Spin, and pages do not send beats.
    #[arg(long)]
    no_presence: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

/// The command line: the derived arguments, with the settings' flags added to `up`.
fn cli() -> clap::Command {
    Cli::command().mut_subcommand("up", |up| up.args(settings::flags()))
}

fn main() -> Result<()> {
    let matches = cli().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_logging(cli.log_format);
    match cli.command {
        Command::Up(args) => {
            let given = matches
                .subcommand_matches("up")
                .context("`up` was parsed")?;
            up(*args, given)
        }
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

fn up(args: UpArgs, given: &clap::ArgMatches) -> Result<()> {
    if args.build {
        heart_host::app::build(&args.manifest).context("building the app")?;
    }
    // The settings' flags (each falling back to its HEART_* variable, through clap) are read
    // by variable name, through the same definitions, defaults and ranges as a container's
    // environment under the shim.
    let settings = Settings::from_lookup(|name| given.get_one::<String>(name).cloned())?;
    let cache_dir = if args.no_cache {
        None
    } else {
        settings
            .cache_dir
            .clone()
            .or_else(heart_host::runtime::compile_cache::default_dir)
    };
    let options = AppOptions {
        watch: args.watch,
        ..AppOptions::from_settings(
            &settings,
            args.manifest.clone(),
            cache_dir,
            !args.no_pooling,
        )
    };
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
        let listener = heart_host::http::listener::bind(args.listen)
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
            ..heart_host::ServerOptions::from_settings(&settings)
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

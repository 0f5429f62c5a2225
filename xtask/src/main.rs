//! Project automation for heart-display: `cargo xtask <command>`.
//!
//! - `build`: the browser bundle and the Wasm components into `dist/`, with sizes.
//! - `up`: build, then serve the app with heart-host on 127.0.0.1:3000 (our `spin up`).
//! - `bench`: the host's performance figures (ratios in one run): table + JSON.
//! - `test`: everything CI runs (fmt, clippy, build, unit/golden/property/integration tests).

mod bench;
mod build;
mod cmd;
mod test;
mod up;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "heart-display project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the Wasm components into dist/ and print their sizes.
    Build,
    /// Build, then serve the app on 127.0.0.1:3000 (extra arguments go to `heart-host up`).
    Up {
        /// Passed to `heart-host up`, e.g. `--listen 127.0.0.1:8080`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run everything CI runs: fmt, clippy, build and every test.
    Test,
    /// Measure the host: component vs native, vs `wasmtime serve`, instantiation, cold start,
    /// RSS, presence. Prints a table and writes target/heart-bench.json.
    Bench {
        /// Seconds of load per HTTP scenario.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Cold starts timed per mode.
        #[arg(long, default_value_t = 5)]
        cold_starts: usize,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Build => build::all(),
        Command::Up { args } => up::up(&args),
        Command::Test => test::suite(),
        Command::Bench {
            seconds,
            cold_starts,
        } => bench::bench(bench::BenchOptions {
            seconds,
            cold_starts,
        }),
    }
}

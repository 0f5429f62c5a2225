//! Project automation for heart-display: `cargo xtask <command>`.
//!
//! - `build`: the browser bundle and the Wasm components into `dist/`, with sizes.
//! - `up`: build, then serve the app with heart-host on 127.0.0.1:3000 (our `spin up`).
//! - `test`: everything CI runs (fmt, clippy, build, unit/golden/property/integration tests).

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
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Build => build::all(),
        Command::Up { args } => up::up(&args),
        Command::Test => test::suite(),
    }
}

//! Project automation for heart-display: `cargo xtask <command>`.
//!
//! - `test`: everything CI runs (fmt, clippy, unit/golden/property tests, integration tests).

mod cmd;
mod test;

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
    /// Run everything CI runs: fmt, clippy and every test.
    Test,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Test => test::suite(),
    }
}

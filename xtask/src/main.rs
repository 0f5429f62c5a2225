//! Project automation for heart-display: `cargo xtask <command>`.
//!
//! - `build`: the browser bundle and the Wasm components into `dist/`, with sizes.
//! - `up`: build, then serve the app with heart-host on 127.0.0.1:3000 (our `spin up`).
//! - `watch`: `up`, rebuilding on each change and swapping it in (our `spin watch`).
//! - `bench`: the host's performance figures (ratios in one run): table + JSON.
//! - `bench-against`: this checkout's host vs other commits' builds, interleaved in one run.
//! - `bench-wire`: compression, HTTP/2 and exported traces against identity, HTTP/1.1 and
//!   traces off, per `/heart.svg`.
//! - `page-bench`: the page's first frame and transfer size in headless Chromium.
//! - `oci`: OCI image-layout tarballs (rootfs, Wasm artifact, Spin) in `dist/oci/`.
//! - `node-fixtures`: the node tests' pause image and rendered chart in `dist/node/`.
//! - `check-wasmtime-serve`: the plain-WASI build under `wasmtime serve` (wasmtime-cli 50.0.1).
//! - `fuzz`: cargo-fuzz on every target for N runs or minutes; new coverage kept as seeds.
//! - `soak`: bounded load (all formats + beats) against the real host; figures and checks.
//! - `vendor --check`: third_party/'s crates are the crates.io release plus their patch.
//! - `test`: everything CI runs (fmt, clippy, build, unit/golden/property/integration tests).

mod bench;
mod budget;
mod build;
mod cmd;
#[cfg(test)]
mod docs;
mod foreground;
mod fuzz;
mod host_process;
mod newcomer_rustup;
mod node_fixtures;
mod oci;
mod page_bench;
mod plain_wasi;
mod readme_up;
mod soak;
mod system;
mod test;
mod up;
mod vendor;
mod wasm_opt;
mod wasmtime_cli;
mod watch;
mod watch_check;

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
    /// Check that third_party/'s crates are their crates.io release plus their patch, or
    /// rewrite the patches from the trees.
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["check", "write_patches"])))]
    Vendor {
        /// Verify against the registry's `.crate` (what the suite runs).
        #[arg(long)]
        check: bool,
        /// Rewrite each `.patch` from the difference between the release and the tree.
        #[arg(long)]
        write_patches: bool,
    },
    /// Build, then serve the app on 127.0.0.1:3000 (extra arguments go to `heart-host up`).
    Up {
        /// Passed to `heart-host up`, e.g. `--listen 127.0.0.1:8080`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Like `up`, then on each change under components/, web/ or to spin.toml rebuild and swap
    /// the new component into the running host (open connections and streams stay).
    Watch {
        /// Passed to `heart-host up`, e.g. `--listen 127.0.0.1:8080`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The suite's check of `watch` alone: in a copy of the checkout, an edit swapped in on an
    /// open connection, a broken edit refused, Ctrl-C.
    CheckWatch,
    /// Write the app as OCI image-layout tarballs (rootfs, Wasm artifact and Spin forms) and
    /// print their references and digests. Builds the components first.
    Oci {
        /// Output directory (default dist/oci).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Serve the plain-WASI builds (dist/heart_http_env.wasm, heart_http_p3_env.wasm) with `wasmtime serve` 50.0.1 and
    /// check every route and format (installs wasmtime-cli into the tools dir once).
    CheckWasmtimeServe,
    /// The node tests' pause image (a static program built here) and the chart rendered with
    /// default values, in dist/node/.
    NodeFixtures,
    /// Load the real host over loopback (every format plus beats from simulated clients) for a
    /// bounded time; report req/s, p50/p99, errors, RSS, fds and presence consistency.
    Soak {
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Simulated presence clients.
        #[arg(long, default_value_t = 5000)]
        clients: usize,
        /// Upper bound on requests.
        #[arg(long, default_value_t = 5_000_000)]
        max_requests: u64,
    },
    /// Run everything CI runs: fmt, clippy, build and every test.
    Test,
    /// Fuzz the targets in fuzz/ (all, or those named) with cargo-fuzz on a pinned nightly
    /// (both installed once), each until --runs inputs or --minutes; inputs reaching new
    /// coverage are kept in fuzz/seeds/ (the suite replays them). Prints executions, exec/s and
    /// coverage per target, and writes heart-fuzz.json in the target dir.
    Fuzz {
        /// Longest each target runs, in minutes.
        #[arg(long, default_value_t = 60)]
        minutes: u64,
        /// Inputs each target runs (it stops at this or at --minutes, whichever comes first).
        #[arg(long, default_value_t = 10_000_000)]
        runs: u64,
        /// Targets fuzzed at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Targets to fuzz (default: all).
        targets: Vec<String>,
    },
    /// Measure the host: component vs native, vs `wasmtime serve`, instantiation, cold start,
    /// RSS, presence. Prints a table and writes target/heart-bench.json.
    Bench {
        /// Seconds of load per HTTP scenario and round.
        #[arg(long, default_value_t = 4)]
        seconds: u64,
        /// Rounds: the HTTP scenarios run interleaved, each once per round.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Cold starts timed per mode.
        #[arg(long, default_value_t = 5)]
        cold_starts: usize,
        /// Instead: where one `/heart.svg` request's CPU goes (native, fresh, reused), line by
        /// line from perf samples, with host calls and dirtied guest memory counted.
        #[arg(long)]
        explain: bool,
    },
    /// Compare this checkout's heart-host with other commits' builds in one run (native, fresh
    /// and reused on one path, interleaved rounds). Each commit is built in a worktree under
    /// the target dir by its own xtask.
    BenchAgainst {
        /// Commits to compare with (e.g. `main~3`, a SHA).
        #[arg(required = true)]
        revs: Vec<String>,
        /// The component path loaded.
        #[arg(long, default_value = "/heart.svg")]
        path: String,
        /// Seconds of load per scenario and round.
        #[arg(long, default_value_t = 4)]
        seconds: u64,
        /// Rounds.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Measure the wire per /heart.svg: the server's CPU per request with gzip and Brotli
    /// against identity, HTTP/2 against HTTP/1.1, and traces exported over OTLP against traces
    /// off (h2load, interleaved rounds).
    BenchWire {
        /// Seconds of load per scenario and round.
        #[arg(long, default_value_t = 4)]
        seconds: u64,
        /// Rounds.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Measure the page in headless Chromium: navigation → first heart drawn, long tasks
    /// during load, transfer size (medians over first visits). Writes
    /// tests/artifacts/first-frame.json.
    PageBench {
        /// First visits measured (each in a fresh browser context).
        #[arg(long, default_value_t = 15)]
        runs: u32,
    },
}

/// The exit code a shell would report for `status` (128 + the signal for a killed process).
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Build => build::all(),
        Command::Vendor { check, .. } => {
            if check {
                vendor::check()
            } else {
                vendor::write_patches()
            }
        }
        Command::Up { args } => {
            let status = up::up(&args)?;
            // heart-host's own status, so a clean Ctrl-C stop exits 0.
            std::process::exit(exit_code(status))
        }
        Command::Watch { args } => {
            let status = watch::watch(&args)?;
            std::process::exit(exit_code(status))
        }
        Command::CheckWatch => watch_check::check(),
        Command::Test => test::suite(),
        Command::Fuzz {
            minutes,
            runs,
            jobs,
            targets,
        } => fuzz::fuzz(&fuzz::FuzzOptions {
            minutes,
            runs,
            jobs: jobs.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }),
            targets,
        }),
        Command::NodeFixtures => node_fixtures::build(),
        Command::CheckWasmtimeServe => plain_wasi::check(),
        Command::BenchAgainst {
            revs,
            path,
            seconds,
            rounds,
        } => bench::bench_against(&bench::AgainstOptions {
            revs,
            path,
            seconds,
            rounds,
        }),
        Command::BenchWire { seconds, rounds } => bench::bench_wire(seconds, rounds),
        Command::PageBench { runs } => page_bench::page_bench(runs),
        Command::Soak {
            seconds,
            connections,
            clients,
            max_requests,
        } => soak::soak(soak::SoakOptions {
            seconds,
            connections,
            clients,
            max_requests,
        }),
        Command::Oci { out } => {
            build::all()?;
            oci::build(out.as_deref()).map(drop)
        }
        Command::Bench {
            explain: true,
            seconds,
            ..
        } => bench::explain(seconds),
        Command::Bench {
            seconds,
            rounds,
            cold_starts,
            explain: false,
        } => bench::bench(bench::BenchOptions {
            seconds,
            rounds,
            cold_starts,
        }),
    }
}

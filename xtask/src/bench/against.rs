//! `cargo xtask bench-against REV…`: this checkout's heart-host against the same host built
//! from other commits, measured in one run. Each commit is checked out in a worktree under the
//! target dir and built by its own xtask and cargo (its components, its host, its toolchain), so
//! the comparison is the whole of what a commit serves. The HTTP scenarios (`/native…`, a fresh
//! instance and a reused one on the same path) of every build run in interleaved rounds, and each
//! commit's figures are ratios against this checkout's, round by round.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::servers::start_host;
use super::stats::Ratio;
use super::wrk::{interleaved, summary};
use crate::build::target_dir;
use crate::cmd::{root, run};
use crate::host_process::ServerProcess;

/// Options.
#[derive(Debug, Clone)]
pub struct AgainstOptions {
    /// The commits to compare with (anything `git rev-parse` takes).
    pub revs: Vec<String>,
    /// The path loaded (the component's; the native scenario adds `/native`).
    pub path: String,
    /// Seconds of load per scenario and round.
    pub seconds: u64,
    /// Rounds.
    pub rounds: usize,
}

/// One build to compare: a release heart-host (with the native baseline) and the manifest it
/// serves, whose `dist/` that commit built.
#[derive(Debug)]
struct Build {
    name: String,
    host: PathBuf,
    manifest: PathBuf,
}

/// The cargo environment a nested build must not inherit: the commit's own toolchain file and
/// cargo decide, as they would for its developer.
const CARGO_ENV: [&str; 5] = [
    "CARGO",
    "RUSTUP_TOOLCHAIN",
    "RUSTC",
    "CARGO_MANIFEST_DIR",
    "CARGO_PKG_NAME",
];

fn git(args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root())
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Copies the freshly built release host to `to`: the next build overwrites the target dir's.
fn keep_host(to: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(to)?;
    let kept = to.join("heart-host");
    std::fs::copy(crate::build::host_binary(), &kept)
        .with_context(|| format!("copying the release heart-host to {}", kept.display()))?;
    Ok(kept)
}

/// This checkout, built as `cargo xtask bench` builds it.
fn this_checkout(work: &Path) -> Result<Build> {
    crate::build::all()?;
    crate::build::release_host(&["--features", "native-baseline"])?;
    Ok(Build {
        name: "this checkout".into(),
        host: keep_host(&work.join("this"))?,
        manifest: root().join("spin.toml"),
    })
}

/// `rev` in a worktree of its own (kept under the target dir, so a second run rebuilds
/// nothing), built by its own xtask.
fn commit(rev: &str) -> Result<Build> {
    let sha = git(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])?;
    let short = &sha[..9];
    let dir = target_dir().join("bench-against").join(&sha);
    let tree = dir.join("tree");
    if !tree.join("Cargo.toml").is_file() {
        let _ = std::fs::remove_dir_all(&tree);
        git(&["worktree", "prune"])?;
        git(&[
            "worktree",
            "add",
            "--detach",
            &tree.display().to_string(),
            &sha,
        ])?;
    }
    let host = dir.join("heart-host");
    if !host.is_file() {
        let cargo = |args: &[&str]| {
            let mut command = Command::new("cargo");
            command.args(args).current_dir(&tree);
            for name in CARGO_ENV {
                command.env_remove(name);
            }
            command
        };
        run(&mut cargo(&["xtask", "build"]))?;
        run(&mut cargo(&[
            "build",
            "--locked",
            "--release",
            "-p",
            "heart-host",
            "--features",
            "native-baseline",
        ]))?;
        keep_host(&dir)?;
    }
    Ok(Build {
        name: short.to_owned(),
        host,
        manifest: tree.join("spin.toml"),
    })
}

/// Builds every commit, loads each build's scenarios in interleaved rounds and prints the
/// table: req/s medians, and each commit's ratio to this checkout with its range.
pub fn bench_against(options: &AgainstOptions) -> Result<()> {
    if options.revs.is_empty() {
        bail!("name at least one commit to compare with, e.g. `cargo xtask bench-against main~5`");
    }
    super::run::require("wrk", "wrk")?;
    super::run::require("taskset", "util-linux")?;
    let work = tempfile::tempdir()?;
    let mut builds = vec![this_checkout(work.path())?];
    for rev in &options.revs {
        builds.push(commit(rev)?);
    }
    let path = options.path.as_str();
    let native = format!("/native{path}");
    // Per build: a server making a fresh instance per request (which also answers natively)
    // and one reusing instances.
    let mut servers: Vec<ServerProcess> = Vec::new();
    let mut scenarios: Vec<(usize, &str)> = Vec::new();
    for build in &builds {
        let fresh = servers.len();
        servers.push(start_host(&build.host, &build.manifest, &["--no-cache"])?);
        servers.push(start_host(
            &build.host,
            &build.manifest,
            &["--no-cache", "--instance-reuse", "1000"],
        )?);
        scenarios.extend([(fresh, native.as_str()), (fresh, path), (fresh + 1, path)]);
    }
    eprintln!(
        "\n==> {path}: {} builds × native, fresh, reused; {} rounds of {} s",
        builds.len(),
        options.rounds,
        options.seconds
    );
    let runs = interleaved(&servers, &scenarios, options.rounds, options.seconds)?;
    drop(servers);

    println!(
        "\n{path}, {} rounds of {} s per scenario, interleaved (wrk -t1 -c16 on core 1, servers on core 0); req/s medians, ratio to this checkout: median [range] of per-round ratios",
        options.rounds, options.seconds
    );
    println!("| build | scenario | req/s | p50 ms | vs this checkout |");
    println!("|---|---|---:|---:|---|");
    let names = ["native", "fresh", "reused"];
    for (b, build) in builds.iter().enumerate() {
        for (s, scenario) in names.iter().enumerate() {
            let i = b * names.len() + s;
            let load = summary(&runs[i]);
            let ratio = if b == 0 {
                "1.00 (baseline)".to_owned()
            } else {
                Ratio::of(&runs[i], &runs[s]).text("")
            };
            println!(
                "| {} | {scenario} | {:.0} | {:.2} | {ratio} |",
                build.name, load.rps, load.p50_ms
            );
        }
    }
    Ok(())
}

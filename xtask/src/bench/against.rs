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

/// The toolchain choices a nested build must not inherit (nor what `cargo run` set for xtask,
/// [`xtask_toolchain::clear_cargo_run_env`]): the commit's own toolchain step or file and cargo
/// decide, as they would for its developer.
const CARGO_ENV: [&str; 2] = ["RUSTUP_TOOLCHAIN", "RUSTC"];

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

/// Copies the release host just built as `built` to `to`: the next build overwrites it.
fn keep_host(built: &Path, to: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(to)?;
    let kept = to.join("heart-host");
    std::fs::copy(built, &kept)
        .with_context(|| format!("copying {} to {}", built.display(), kept.display()))?;
    Ok(kept)
}

/// The target dir the other commits are built in. Never this checkout's: cargo names a
/// binary's and a Wasm component's output by crate name alone and does not rewrite it when its
/// own fingerprint is fresh, so an older commit built there would leave its `heart-host` and
/// its `.wasm` files in place of this checkout's (for the suite too, which shares that dir).
fn commits_target_dir() -> PathBuf {
    target_dir().join("bench-against").join("target")
}

/// Makes cargo rebuild the project's own crates in `dir`: the commits share it, so a commit
/// built again after another (its kept host deleted) would otherwise find its fingerprints fresh
/// and keep the other commit's outputs. The dependencies stay built.
fn forget_own_crates(dir: &Path) -> Result<()> {
    let own = |name: &str| {
        ["heart-", "heart_", "xtask-", "containerd-shim-heart"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    };
    for entry in fingerprint_dirs(dir) {
        for crate_dir in std::fs::read_dir(&entry)? {
            let crate_dir = crate_dir?;
            if own(&crate_dir.file_name().to_string_lossy()) {
                std::fs::remove_dir_all(crate_dir.path())?;
            }
        }
    }
    Ok(())
}

/// The `.fingerprint` directories of every profile and target under `dir`.
fn fingerprint_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((at, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if entry.file_name() == ".fingerprint" {
                found.push(path);
            } else if depth < 3 {
                pending.push((path, depth + 1));
            }
        }
    }
    found
}

/// This checkout, built as `cargo xtask bench` builds it.
fn this_checkout(work: &Path) -> Result<Build> {
    crate::build::all()?;
    crate::build::release_host(&["--features", "native-baseline"])?;
    Ok(Build {
        name: "this checkout".into(),
        host: keep_host(&crate::build::host_binary(), &work.join("this"))?,
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
        forget_own_crates(&commits_target_dir())?;
        let pinned = xtask_pin(&tree)?;
        let cargo = |args: &[&str]| {
            let mut command = Command::new("cargo");
            command
                .args(args)
                .current_dir(&tree)
                .env("CARGO_TARGET_DIR", commits_target_dir());
            xtask_toolchain::clear_cargo_run_env(&mut command);
            for name in CARGO_ENV {
                command.env_remove(name);
            }
            // A commit without rust-toolchain.toml pins its toolchain in xtask-toolchain,
            // which only `cargo xtask` applies: a plain `cargo` there gets it named.
            if let Some(channel) = &pinned {
                command.env("RUSTUP_TOOLCHAIN", channel);
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
        keep_host(&commits_target_dir().join("release/heart-host"), &dir)?;
    }
    Ok(Build {
        name: short.to_owned(),
        host,
        manifest: tree.join("spin.toml"),
    })
}

/// The toolchain a commit's `cargo xtask` builds with, where it is not in a
/// `rust-toolchain.toml` (which rustup applies to every cargo there by itself): the `CHANNEL` of
/// its `xtask/toolchain/src/pin.rs`.
fn xtask_pin(tree: &Path) -> Result<Option<String>> {
    if tree.join("rust-toolchain.toml").is_file() {
        return Ok(None);
    }
    let pin = tree.join("xtask/toolchain/src/pin.rs");
    let text =
        std::fs::read_to_string(&pin).with_context(|| format!("reading {}", pin.display()))?;
    let channel = text
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("pub const CHANNEL: &str = \"")?
                .strip_suffix("\";")
        })
        .with_context(|| format!("no CHANNEL in {}", pin.display()))?;
    Ok(Some(channel.to_owned()))
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

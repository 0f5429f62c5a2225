//! `cargo xtask fuzz [--minutes N] [--runs N] [--jobs N] [TARGET…]`: coverage-guided fuzzing of
//! `fuzz/`'s targets with cargo-fuzz (libFuzzer) on a pinned nightly, every target unless some
//! are named, until each has run `--runs` inputs or `--minutes` have passed.
//!
//! - **Toolchain and tool**: [`TOOLCHAIN`] through rustup (installed when absent, minimal
//!   profile) and cargo-fuzz [`CARGO_FUZZ`] in the tools dir, both once.
//! - **Build**: `cargo fuzz build --sanitizer none --debug-assertions`: the targets are safe
//!   Rust, where AddressSanitizer finds nothing the compiler has not ruled out and halves the
//!   executions per second; debug assertions turn overflows into findings.
//! - **Run**: `--jobs` targets at a time (default: one per core), each on its working corpus in
//!   the target dir (kept between runs, so each run starts where the last ended) plus
//!   `fuzz/seeds/<target>`, with a 5 s per-input timeout. libFuzzer's final statistics give the
//!   executions, executions per second, and coverage (`cov`: edges, `ft`: features).
//! - **Keep**: the inputs that reach edges the seeds do not (libFuzzer's `-merge=1` with
//!   `-use_counters=0` into `fuzz/seeds/<target>`), which the suite replays on stable (`fuzz/tests/replay.rs`). A crash,
//!   timeout or out-of-memory input is copied into the seeds too — the replay then fails on it
//!   until it is fixed — and the command fails, naming it.
//!
//! Prints a table and writes `heart-fuzz.json` in the target dir.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::build::target_dir;
use crate::cmd::{root, run};

/// The nightly cargo-fuzz builds with (its `-Z` flags need one): the newest rustup served on
/// 2026-12-05, pinned so a run is reproducible.
pub const TOOLCHAIN: &str = "nightly-2026-10-30";
/// cargo-fuzz's release.
pub const CARGO_FUZZ: &str = "0.13.2";
/// Longest one input may run before it counts as a hang.
const INPUT_TIMEOUT_SECS: u64 = 5;

/// What to fuzz and for how long.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Upper bound on each target's time.
    pub minutes: u64,
    /// Inputs each target runs (it stops at this or at `minutes`, whichever comes first).
    pub runs: u64,
    /// Targets fuzzed at once.
    pub jobs: usize,
    /// Targets by name (empty: all).
    pub targets: Vec<String>,
}

/// One target's run, from libFuzzer's statistics.
#[derive(Debug, Clone, Default)]
struct Outcome {
    target: String,
    executions: u64,
    per_second: u64,
    coverage: u64,
    features: u64,
    corpus: u64,
    seeds_added: usize,
    seeds: usize,
    seconds: f64,
    /// The input that crashed, hung or ran out of memory, copied into the seeds.
    finding: Option<PathBuf>,
}

/// Runs the fuzzers and prints their figures.
pub fn fuzz(options: &FuzzOptions) -> Result<()> {
    let all = targets()?;
    let chosen: Vec<String> = if options.targets.is_empty() {
        all.clone()
    } else {
        for name in &options.targets {
            if !all.contains(name) {
                bail!(
                    "no fuzz target `{name}`: the targets are {}",
                    all.join(", ")
                );
            }
        }
        options.targets.clone()
    };
    let cargo_fuzz = prepare()?;
    run(Command::new(&cargo_fuzz)
        .current_dir(root())
        .env("RUSTUP_TOOLCHAIN", TOOLCHAIN)
        .env("CARGO_TARGET_DIR", target_dir())
        .args([
            "fuzz",
            "build",
            "--fuzz-dir",
            "fuzz",
            "--sanitizer",
            "none",
            "--debug-assertions",
        ]))?;
    let queue = Mutex::new(chosen.clone());
    let outcomes = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, chosen.len().max(1)) {
            scope.spawn(|| {
                loop {
                    // In the manifest's order (its slowest target first, so it is not last).
                    let next = queue
                        .lock()
                        .ok()
                        .and_then(|mut q| (!q.is_empty()).then(|| q.remove(0)));
                    let Some(target) = next else { break };
                    match fuzz_one(&target, options) {
                        Ok(outcome) => outcomes.lock().expect("not poisoned").push(outcome),
                        Err(e) => failures
                            .lock()
                            .expect("not poisoned")
                            .push(format!("{target}: {e:#}")),
                    }
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("not poisoned");
    outcomes.sort_by(|a, b| a.target.cmp(&b.target));
    print_table(&outcomes);
    write_json(&outcomes)?;
    let mut failures = failures.into_inner().expect("not poisoned");
    failures.extend(outcomes.iter().filter_map(|o| {
        o.finding.as_ref().map(|f| {
            format!(
                "{}: a finding, kept as {} (the replay fails on it until fixed)",
                o.target,
                f.display()
            )
        })
    }));
    if !failures.is_empty() {
        bail!("fuzzing failed:\n{}", failures.join("\n"));
    }
    Ok(())
}

/// The fuzz targets: `fuzz/Cargo.toml`'s binaries.
fn targets() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml"))
        .context("reading fuzz/Cargo.toml")?;
    let manifest: toml::Table = manifest.parse().context("parsing fuzz/Cargo.toml")?;
    let names = manifest
        .get("bin")
        .and_then(toml::Value::as_array)
        .map(|bins| {
            bins.iter()
                .filter_map(|bin| bin.get("name")?.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if names.is_empty() {
        bail!("fuzz/Cargo.toml names no [[bin]] targets");
    }
    Ok(names)
}

/// The pinned nightly (installed if absent) and cargo-fuzz (installed once).
fn prepare() -> Result<PathBuf> {
    let present = Command::new("rustup")
        .args(["run", TOOLCHAIN, "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            TOOLCHAIN,
            "--profile",
            "minimal",
        ]))?;
    }
    let dir = crate::cmd::tools_dir().join(format!("cargo-fuzz-{CARGO_FUZZ}"));
    crate::cmd::installed_tool("cargo-fuzz", CARGO_FUZZ, true, &dir, "cargo-fuzz")
}

/// Where one target's working corpus, findings and log live (kept between runs).
fn work_dir(target: &str) -> PathBuf {
    target_dir().join("fuzz").join(target)
}

/// Fuzzes `target`, then keeps what reached new coverage in its seeds.
fn fuzz_one(target: &str, options: &FuzzOptions) -> Result<Outcome> {
    let binary = target_dir()
        .join("x86_64-unknown-linux-gnu/release")
        .join(target);
    let work = work_dir(target);
    let corpus = work.join("corpus");
    let findings = work.join("findings");
    for dir in [&corpus, &findings] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let seeds = root().join("fuzz/seeds").join(target);
    let started = Instant::now();
    eprintln!(
        "fuzzing {target}: up to {} runs or {} min",
        options.runs, options.minutes
    );
    let output = Command::new(&binary)
        .arg(&corpus)
        .arg(&seeds)
        .arg(format!("-runs={}", options.runs))
        .arg(format!("-max_total_time={}", options.minutes * 60))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg(format!("-artifact_prefix={}/", findings.display()))
        .arg("-print_final_stats=1")
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    std::fs::write(work.join("last-run.log"), &log).context("writing the run's log")?;
    let mut outcome = parse_stats(target, &log);
    outcome.seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        outcome.finding = Some(keep_finding(&log, &seeds)?);
    }
    let before = count_files(&seeds)?;
    // Kept for new edges, not libFuzzer's finer features (hit-count buckets): the same coverage
    // in a few hundred files rather than thousands.
    let merge = Command::new(&binary)
        .arg("-merge=1")
        .arg("-use_counters=0")
        .arg(&seeds)
        .arg(&corpus)
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        // Where an input that crashes the merge goes (not the checkout).
        .arg(format!("-artifact_prefix={}/", findings.display()))
        .output()
        .with_context(|| format!("merging into {}", seeds.display()))?;
    if !merge.status.success() {
        bail!(
            "merging {target}'s corpus into its seeds failed: {}",
            tail(&String::from_utf8_lossy(&merge.stderr))
        );
    }
    outcome.seeds = count_files(&seeds)?;
    outcome.seeds_added = outcome.seeds.saturating_sub(before);
    eprintln!(
        "{target}: {} runs at {}/s in {:.0} s, cov {} ft {}, {} seeds added",
        outcome.executions,
        outcome.per_second,
        outcome.seconds,
        outcome.coverage,
        outcome.features,
        outcome.seeds_added
    );
    Ok(outcome)
}

/// libFuzzer's final statistics and last coverage line.
fn parse_stats(target: &str, log: &str) -> Outcome {
    let stat = |name: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let last = log
        .lines()
        .rev()
        .find(|l| l.contains(" cov: "))
        .unwrap_or("");
    let after = |key: &str| {
        last.split_once(key)
            .and_then(|(_, rest)| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .find(|s| !s.is_empty())?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    Outcome {
        target: target.to_owned(),
        executions: stat("number_of_executed_units"),
        per_second: stat("average_exec_per_sec"),
        coverage: after(" cov: "),
        features: after(" ft: "),
        corpus: after(" corp: "),
        ..Outcome::default()
    }
}

/// Copies the input libFuzzer wrote for a finding into `seeds`, and says where it went.
fn keep_finding(log: &str, seeds: &Path) -> Result<PathBuf> {
    let written = log
        .lines()
        .find_map(|l| l.split_once("Test unit written to ").map(|(_, p)| p.trim()))
        .with_context(|| format!("the fuzzer failed without writing an input:\n{}", tail(log)))?;
    let from = Path::new(written);
    let name = from.file_name().context("the finding's file name")?;
    let to = seeds.join(name);
    std::fs::copy(from, &to).with_context(|| format!("copying {}", from.display()))?;
    eprintln!("finding:\n{}", tail(log));
    Ok(to)
}

fn count_files(dir: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .count())
}

/// The last lines of a log, for messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn print_table(outcomes: &[Outcome]) {
    println!(
        "\ncargo-fuzz {CARGO_FUZZ} on {TOOLCHAIN}, libFuzzer, no sanitizer, debug assertions on"
    );
    println!(
        "| target | executions | exec/s | cov (edges) | ft (features) | corpus | seeds (added) | minutes | result |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for o in outcomes {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} (+{}) | {:.1} | {} |",
            o.target,
            o.executions,
            o.per_second,
            o.coverage,
            o.features,
            o.corpus,
            o.seeds,
            o.seeds_added,
            o.seconds / 60.0,
            if o.finding.is_some() {
                "FINDING"
            } else {
                "no crash"
            }
        );
    }
}

fn write_json(outcomes: &[Outcome]) -> Result<()> {
    let rows: Vec<_> = outcomes
        .iter()
        .map(|o| {
            json!({
                "target": o.target, "executions": o.executions, "exec_per_second": o.per_second,
                "coverage": o.coverage, "features": o.features, "corpus": o.corpus,
                "seeds": o.seeds, "seeds_added": o.seeds_added, "seconds": o.seconds,
                "finding": o.finding.as_ref().map(|f| f.display().to_string()),
            })
        })
        .collect();
    let path = target_dir().join("heart-fuzz.json");
    let text = serde_json::to_string_pretty(&json!({
        "toolchain": TOOLCHAIN, "cargo_fuzz": CARGO_FUZZ, "targets": rows,
    }))?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfuzzer_statistics_are_read() {
        let log = "#2\tINITED cov: 10 ft: 11 corp: 3/9b exec/s: 0 rss: 29Mb\n\
                   #1007330\tDONE   cov: 1373 ft: 3379 corp: 937/131Kb lim: 1646 exec/s: 91575 rss: 30Mb\n\
                   Done 1007330 runs in 11 second(s)\n\
                   stat::number_of_executed_units: 1007330\n\
                   stat::average_exec_per_sec:     91575\n\
                   stat::new_units_added:          612\n";
        let o = parse_stats("api_request", log);
        assert_eq!(
            (o.executions, o.per_second, o.coverage, o.features, o.corpus),
            (1_007_330, 91_575, 1373, 3379, 937)
        );
    }

    #[test]
    fn every_target_in_the_manifest_has_seeds_and_a_replay() {
        let replay = std::fs::read_to_string(root().join("fuzz/tests/replay.rs"))
            .expect("fuzz/tests/replay.rs");
        for target in targets().expect("the fuzz manifest's targets") {
            assert!(
                count_files(&root().join("fuzz/seeds").join(&target)).unwrap_or(0) > 0,
                "{target} has no seeds"
            );
            assert!(
                replay.contains(&format!("fn {target}()")),
                "{target} is not replayed by fuzz/tests/replay.rs"
            );
        }
    }
}

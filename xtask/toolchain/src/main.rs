//! `cargo xtask …` (the alias in `.cargo/config.toml`): makes the pinned toolchain ready with
//! rustup, then replaces itself with `rustup run <pin> cargo run --package xtask -- …`, so
//! xtask and everything it builds or runs use the pin (`RUSTUP_TOOLCHAIN` is inherited by
//! every nested `cargo` and `rustc`). The process is replaced, not waited for: Ctrl-C and the
//! exit status are xtask's own. Without rustup, xtask runs under the cargo that started this.
//!
//! For `up` and `watch`, the release heart-host starts building first, beside xtask's own build
//! ([`early_host_build`]): on a first run the two compile in parallel instead of one after the
//! other.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use xtask_toolchain::{clear_cargo_run_env, ensure_installed, Error, CHANNEL, UP_HOST_BUILD};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let cargo = match ensure_installed() {
        Ok(added) => {
            if !added.is_empty() {
                eprintln!(
                    "heart-display builds with Rust {CHANNEL}: added {}",
                    added.join(", ")
                );
            }
            Cargo::Pinned
        }
        Err(Error::NoRustup(e)) => {
            eprintln!(
                "note: rustup is not available ({e}); running xtask with this cargo, which \
                 must be Rust {CHANNEL}"
            );
            Cargo::AsStarted
        }
        Err(e) => {
            eprintln!("error: making Rust {CHANNEL} ready with rustup: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.first().is_some_and(|a| a == "up" || a == "watch") {
        early_host_build(&cargo);
    }
    let mut xtask = cargo.command();
    xtask
        .args(["run", "--quiet", "--package", "xtask", "--"])
        .args(args);
    let e = xtask.exec();
    eprintln!("error: starting {xtask:?}: {e}");
    ExitCode::FAILURE
}

/// Which cargo runs xtask.
enum Cargo {
    /// The pinned toolchain's, through rustup.
    Pinned,
    /// The one that started this program.
    AsStarted,
}

impl Cargo {
    fn command(&self) -> Command {
        let mut command = match self {
            Self::Pinned => {
                let mut command = Command::new("rustup");
                command
                    .args(["run", CHANNEL, "cargo"])
                    .env("RUSTUP_TOOLCHAIN", CHANNEL);
                command
            }
            Self::AsStarted => {
                Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            }
        };
        // What the outer `cargo run` set for this program: the inner cargo sets its own for
        // what it runs, and a build must not see this program's.
        clear_cargo_run_env(&mut command);
        command
    }
}

/// Starts [`UP_HOST_BUILD`] — exactly what `xtask up` builds last — in the background, its output in the target directory's
/// `heart-host-build.log`. It takes cargo's lock on the release directory, which no other build
/// of `up` uses (xtask builds in the dev profile, the bundle and components in their own), so
/// it runs beside them; `up` then waits for that lock and finds the host built, or reports the
/// build's errors itself. It is in this process's group, so Ctrl-C stops it too. Nothing is
/// started if the log cannot be created: `up` builds the host then, as it would anyway.
fn early_host_build(cargo: &Cargo) {
    // Both read at run time (cargo sets them): a build reused from another checkout must not
    // carry that checkout's path.
    let Some(target) = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(|dir| PathBuf::from(dir).join("../../target"))
        })
    else {
        return;
    };
    let log = target.join("heart-host-build.log");
    let Ok(file) = std::fs::create_dir_all(&target).and_then(|()| std::fs::File::create(&log))
    else {
        return;
    };
    let Ok(copy) = file.try_clone() else {
        return;
    };
    let started = cargo
        .command()
        .args(UP_HOST_BUILD)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(copy)
        .spawn();
    if started.is_ok() {
        eprintln!(
            "building the release heart-host beside xtask (output: {})",
            log.display()
        );
    }
}

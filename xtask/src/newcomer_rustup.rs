//! A rustup home as a newcomer's machine has it: only rustup's default toolchain (this
//! machine's, linked in, not copied), no pinned toolchain, `RUSTUP_AUTO_INSTALL=0`. The README's
//! run command runs against it, so the suite shows that the command gets the toolchain it
//! builds with by itself (`xtask/toolchain`) instead of assuming an earlier manual step.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

/// A temporary rustup home (removed when dropped) and the `cargo` proxy to run with it.
#[derive(Debug)]
pub struct NewcomerRustup {
    home: tempfile::TempDir,
    /// The machine's default toolchain, the only one the home holds at first.
    pub default: String,
    proxy_dir: PathBuf,
}

impl NewcomerRustup {
    /// Makes the home: `toolchains/<default>` linked to this machine's default toolchain and a
    /// `settings.toml` naming it the default.
    pub fn new() -> Result<Self> {
        let real_home = rustup_home()?;
        let default = rustup(&["default"])?
            .split_whitespace()
            .next()
            .context("`rustup default` printed nothing")?
            .to_owned();
        let real = real_home.join("toolchains").join(&default);
        let real = real
            .canonicalize()
            .with_context(|| format!("the default toolchain at {}", real.display()))?;
        let home = tempfile::Builder::new()
            .prefix("heart-newcomer-rustup-")
            .tempdir()
            .context("creating a rustup home")?;
        std::fs::create_dir(home.path().join("toolchains")).context("creating toolchains/")?;
        std::os::unix::fs::symlink(&real, home.path().join("toolchains").join(&default))
            .context("linking the default toolchain")?;
        // The settings format is rustup's own: keep its version line, name only the default.
        let settings = std::fs::read_to_string(real_home.join("settings.toml"))
            .context("reading rustup's settings.toml")?;
        let version = settings
            .lines()
            .find(|l| l.starts_with("version"))
            .context("rustup's settings.toml has no version")?;
        std::fs::write(
            home.path().join("settings.toml"),
            format!("{version}\ndefault_toolchain = \"{default}\"\nprofile = \"minimal\"\n"),
        )
        .context("writing settings.toml")?;
        let proxy_dir = proxy_dir()?;
        Ok(Self {
            home,
            default,
            proxy_dir,
        })
    }

    /// `cargo` as a newcomer types it: rustup's proxy, this home, auto-install off, and none
    /// of the toolchain choices the running suite inherited.
    pub fn cargo(&self) -> Command {
        let mut cargo = Command::new(self.proxy_dir.join("cargo"));
        cargo
            .env("RUSTUP_HOME", self.home.path())
            .env("RUSTUP_AUTO_INSTALL", "0")
            .env("PATH", self.path())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTC")
            .env_remove("RUSTDOC");
        xtask_toolchain::clear_cargo_run_env(&mut cargo);
        cargo
    }

    /// The toolchains the home holds now (`1.99.1-x86_64-unknown-linux-gnu`, …).
    pub fn toolchains(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(self.home.path().join("toolchains"))? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    /// `PATH` without any toolchain's own `bin/` (rustup may add the running one's), with the
    /// proxies first.
    fn path(&self) -> OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let kept = std::env::split_paths(&inherited)
            .filter(|p| !p.ends_with("bin") || !is_toolchain_bin(p));
        std::env::join_paths(std::iter::once(self.proxy_dir.clone()).chain(kept))
            .expect("PATH entries hold no separator")
    }
}

/// Whether `dir` is `…/toolchains/<name>/bin`.
fn is_toolchain_bin(dir: &Path) -> bool {
    dir.parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .is_some_and(|name| name == "toolchains")
}

/// Where rustup keeps its toolchains (`RUSTUP_HOME`, else `~/.rustup`).
fn rustup_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("RUSTUP_HOME") {
        return Ok(home.into());
    }
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(Path::new(&home).join(".rustup"))
}

/// The directory of rustup's proxies (`cargo`, `rustc`, … beside `rustup` itself).
fn proxy_dir() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        if dir.join("rustup").is_file() && dir.join("cargo").is_file() {
            return Ok(dir);
        }
    }
    bail!("no directory on PATH holds rustup and its cargo proxy")
}

/// What `rustup args` prints, run with this machine's rustup home.
fn rustup(args: &[&str]) -> Result<String> {
    let output = Command::new("rustup")
        .args(args)
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .context("running rustup")?;
    ensure!(output.status.success(), "rustup {} failed", args.join(" "));
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

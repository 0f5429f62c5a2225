//! Running child commands from the workspace root, echoing them first.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root: found as the tests find it (the running crate's directory, one level
/// below the root).
pub use heart_testing::root;

/// `cargo` as invoked by the running cargo (so toolchain overrides carry over), without the
/// variables `cargo run` set for xtask ([`xtask_toolchain::clear_cargo_run_env`]), so its
/// builds match the bootstrap's and a shell's.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    xtask_toolchain::clear_cargo_run_env(&mut cmd);
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd`, echoing it, and fails with its exit status if it does not succeed.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("\n==> {shown}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Where tools the suite installs are kept (`HEART_TOOLS_DIR`, else
/// `~/.cache/heart-display/tools`), so later runs reuse them.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("HEART_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/heart-display/tools"))
        })
        .unwrap_or_else(|| crate::build::target_dir().join("tools"))
}

/// `bin` from crate `krate` at `version`, installed once with `cargo install --root root` (with
/// the crate's own lockfile when `locked`) and reused from then on.
pub fn installed_tool(
    krate: &str,
    version: &str,
    locked: bool,
    root: &Path,
    bin: &str,
) -> Result<PathBuf> {
    let path = root.join("bin").join(bin);
    if !path.is_file() {
        let mut install = cargo();
        install.args(["install", krate, "--version", version, "--root"]);
        install.arg(root);
        if locked {
            install.arg("--locked");
        }
        run(&mut install)?;
    }
    Ok(path)
}

/// Installs the node packages of `dir` from its lockfile (`npm ci`) unless `package` is already
/// in its `node_modules`.
pub fn npm_ci(dir: &Path, package: &str) -> Result<()> {
    if !dir.join("node_modules").join(package).is_dir() {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir))?;
    }
    Ok(())
}

//! `cargo xtask node-fixtures`: what the node tests and the density benchmark need beside the
//! shim and the app's OCI artifact, in `dist/node/`:
//!
//! - `pause.oci.tar`: the pod sandbox image, a static pause program (`testing/pause/pause.rs`)
//!   built here with rustc — nothing is pulled from a registry;
//! - `installer.oci.tar`: the chart's node-installer image, the static `heart-node-installer`
//!   (built here with cargo, `+crt-static`) and the release `containerd-shim-heart-v1` it
//!   copies onto a node;
//! - `chart.json`: the chart rendered with default values by the Helm engine, as the deploy
//!   suite renders it, with the RuntimeClass it makes when asked.

use anyhow::{Context, Result};

use crate::cmd::{root, run};

/// The name the pause image imports as (`heart_testing::cri::node::PAUSE_IMAGE`).
const PAUSE_IMAGE: &str = "localhost/heart-pause:0.1.0";

/// The name the installer image imports as (the chart's `nodeInstaller.image`).
const INSTALLER_IMAGE: &str = "localhost/heart-node-installer:0.1.0";

/// The host's target, named so `+crt-static` applies to the installer and its dependencies
/// only (not to build scripts, nor to the workspace's other builds).
const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Builds both fixtures.
pub fn build() -> Result<()> {
    let out = root().join("dist/node");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let binary = crate::build::target_dir().join("node-fixtures/pause");
    std::fs::create_dir_all(binary.parent().expect("a parent")).context("creating its dir")?;
    // rustc, as cargo finds it: the pinned toolchain (`RUSTUP_TOOLCHAIN`, set by `cargo xtask`).
    run(std::process::Command::new("rustc")
        .current_dir(root())
        .args([
            "--edition",
            "2024",
            "-O",
            "-C",
            "target-feature=+crt-static",
        ])
        .args(["-C", "strip=symbols", "-o"])
        .arg(&binary)
        .arg(root().join("testing/pause/pause.rs")))?;
    let bytes = std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
    let artifact = crate::oci::pause_image(bytes, PAUSE_IMAGE, &out.join("pause.oci.tar"))?;
    eprintln!("{}  {}", artifact.reference, artifact.path.display());

    installer(&out)?;

    let python = crate::test::tools_venv()?;
    let deploy = root().join("tests/deploy");
    crate::test::pip_install(&python, &deploy.join("requirements.txt"))?;
    run(std::process::Command::new(&python)
        .arg(deploy.join("validate.py"))
        .arg("--render-node")
        .arg(out.join("chart.json")))
}

/// The node installer's image: the installer built static, the shim as `cargo test` builds it.
fn installer(out: &std::path::Path) -> Result<()> {
    run(crate::cmd::cargo()
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args([
            "build",
            "--locked",
            "--release",
            "-p",
            "heart-node-installer",
        ])
        .args(["--target", STATIC_TARGET]))?;
    run(crate::cmd::cargo().args([
        "build",
        "--locked",
        "--release",
        "-p",
        "containerd-shim-heart",
    ]))?;
    let target = crate::build::target_dir();
    let read = |path: std::path::PathBuf| {
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let installer = read(
        target
            .join(STATIC_TARGET)
            .join("release/heart-node-installer"),
    )?;
    let shim = read(target.join("release/containerd-shim-heart-v1"))?;
    let artifact = crate::oci::installer_image(
        installer,
        shim,
        INSTALLER_IMAGE,
        &out.join("installer.oci.tar"),
    )?;
    eprintln!("{}  {}", artifact.reference, artifact.path.display());
    Ok(())
}

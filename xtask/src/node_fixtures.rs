//! `cargo xtask node-fixtures`: what the node tests and the density benchmark need beside the
//! shim and the app's OCI artifact, in `dist/node/`:
//!
//! - `pause.oci.tar`: the pod sandbox image, a static pause program (`testing/pause/pause.rs`)
//!   built here with rustc — nothing is pulled from a registry;
//! - `chart.json`: the chart rendered with default values by the Helm engine, as the deploy
//!   suite renders it, with the RuntimeClass it makes when asked.

use anyhow::{Context, Result};

use crate::cmd::{root, run};

/// The name the pause image imports as (`heart_testing::cri::node::PAUSE_IMAGE`).
const PAUSE_IMAGE: &str = "localhost/heart-pause:0.1.0";

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

    let python = crate::test::tools_venv()?;
    let deploy = root().join("tests/deploy");
    crate::test::pip_install(&python, &deploy.join("requirements.txt"))?;
    run(std::process::Command::new(&python)
        .arg(deploy.join("validate.py"))
        .arg("--render-node")
        .arg(out.join("chart.json")))
}

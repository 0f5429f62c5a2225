//! `cargo xtask test`: the whole suite, in the order that fails fastest.

use anyhow::Result;

use crate::cmd::{cargo, root, run};

/// Runs fmt, clippy, the fuzz crate's build check, the builds, every Rust test and the
/// browser tests.
pub fn suite() -> Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The fuzz crate needs nightly to run, but must keep compiling against heart-core.
    let fuzz_manifest = root().join("fuzz/Cargo.toml");
    run(cargo()
        .arg("check")
        .arg("--manifest-path")
        .arg(fuzz_manifest)
        .arg("--locked"))?;
    // Integration tests serve the real components, so build them first.
    crate::build::all()?;
    // The components are wasm32-wasip2 cdylibs (their export names are not native symbols);
    // they are tested by the host's integration tests, which serve the real builds.
    let mut test = cargo();
    test.args(["test", "--workspace", "--locked"]);
    for (package, _) in crate::build::COMPONENTS {
        test.args(["--exclude", package]);
    }
    run(&mut test)?;
    browser()
}

/// The page in real headless Chromium (playwright-core), served by the real host.
fn browser() -> Result<()> {
    let dir = root().join("tests/browser");
    if !dir.join("node_modules/playwright-core").is_dir() {
        run(std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir))?;
    }
    // `cargo test` above built the host binary in the dev profile.
    let host = crate::build::target_dir().join("debug/heart-host");
    run(std::process::Command::new("npm")
        .arg("test")
        .current_dir(&dir)
        .env("HEART_HOST_BIN", host))
}

//! `cargo xtask test`: the whole suite, in the order that fails fastest.

use anyhow::Result;

use crate::cmd::{cargo, root, run};

/// Runs fmt, clippy, the fuzz crate's build check and every workspace test.
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
    run(cargo().args(["test", "--workspace", "--locked"]))?;
    Ok(())
}

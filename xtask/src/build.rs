//! `cargo xtask build`: the Wasm components (WASI 0.2 and 0.3), copied to `dist/` where
//! `spin.toml` points, with their sizes.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cmd::{cargo, root, run};

/// A component crate and the file `spin.toml`/tests expect in `dist/`.
pub const COMPONENTS: [(&str, &str); 2] = [
    ("heart-http", "heart_http.wasm"),
    ("heart-http-p3", "heart_http_p3.wasm"),
];

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` in the workspace).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Builds every component for `wasm32-wasip2` with the size-optimised `wasm` profile.
pub fn components() -> Result<()> {
    let mut build = cargo();
    build.args([
        "build",
        "--locked",
        "--target",
        "wasm32-wasip2",
        "--profile",
        "wasm",
    ]);
    for (package, _) in COMPONENTS {
        build.args(["-p", package]);
    }
    run(&mut build)?;
    let dist = root().join("dist");
    std::fs::create_dir_all(&dist).context("creating dist/")?;
    eprintln!();
    for (package, file) in COMPONENTS {
        let built = target_dir().join("wasm32-wasip2/wasm").join(file);
        let copy = dist.join(file);
        std::fs::copy(&built, &copy)
            .with_context(|| format!("copying {} to {}", built.display(), copy.display()))?;
        let size = std::fs::metadata(&copy)?.len();
        eprintln!(
            "{package:>14}: dist/{file} {:>8.1} KiB",
            size as f64 / 1024.0
        );
    }
    Ok(())
}

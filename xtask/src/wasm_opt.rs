//! binaryen's `wasm-opt` from npm (`xtask/node/package-lock.json` pins the version and its
//! hash), installed once into `xtask/node/node_modules` and run on the browser bundle after
//! wasm-bindgen. Debian's binaryen 108 is too old: it miscompiles today's wasm-bindgen output.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::cmd::{npm_ci, root, run};

/// `-Oz` (for size) and the WebAssembly features rustc enables by default for
/// `wasm32-unknown-unknown` (Rust 1.99), which wasm-opt must accept and may use.
pub const FLAGS: [&str; 7] = [
    "-Oz",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// The `wasm-opt` script, installed with `npm ci` on first use.
fn wasm_opt() -> Result<PathBuf> {
    let dir = root().join("xtask/node");
    npm_ci(&dir, "binaryen")?;
    Ok(dir.join("node_modules/binaryen/bin/wasm-opt"))
}

/// Optimises the core module at `path` for size (`-Oz`), in place.
pub fn shrink(path: &Path) -> Result<()> {
    run(Command::new(wasm_opt()?)
        .args(FLAGS)
        .arg(path)
        .arg("-o")
        .arg(path))
}

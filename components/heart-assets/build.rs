//! Embeds the browser bundle when `cargo xtask build` has produced it in `dist/web/`; without
//! it the page falls back to server-rendered frames, so a plain `cargo build` still works.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(heart_web_bundle)");
    // Read at run time: `env!` would bake in the path this build script was compiled at, and a
    // target directory shared between checkouts reuses the compiled script.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dist = Path::new(&manifest_dir).join("../../dist/web");
    let files = ["heart_web.js", "heart_web_bg.wasm"];
    for file in files {
        println!("cargo::rerun-if-changed={}", dist.join(file).display());
    }
    if files.iter().all(|f| dist.join(f).is_file()) {
        println!("cargo::rustc-cfg=heart_web_bundle");
    } else {
        println!(
            "cargo::warning=dist/web has no browser bundle; run `cargo xtask build` for the animated page"
        );
    }
}

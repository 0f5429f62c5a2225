//! `wasmtime` from wasmtime-cli, the same release as the host's Wasmtime: the peer the bench
//! compares heart-host with and the host the plain-WASI builds are checked under. Installed
//! once into the tools dir (≈ 17 min).

use std::path::PathBuf;

use anyhow::Result;

use crate::cmd::tools_dir;

/// The wasmtime-cli release the host is built against.
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

    #[test]
    fn the_wasmtime_cli_is_the_hosts_wasmtime() {
        let manifest =
            std::fs::read_to_string(root().join("Cargo.toml")).expect("the workspace Cargo.toml");
        assert!(
            manifest.contains(&format!("wasmtime = {{ version = \"={VERSION}\"")),
            "wasmtime_cli::VERSION {VERSION} is not the workspace's wasmtime pin"
        );
    }
}

//! The parts of the toolchain `rust-toolchain.toml` names, added with rustup where missing:
//! rustup adds a toolchain file's targets and components on demand only where auto-install is
//! on (not where `RUSTUP_AUTO_INSTALL=0`). Without rustup, the toolchain is used as it is.

use std::process::Command;

use anyhow::{Context, Result};

use crate::cmd::{root, run};

/// Which list of `rust-toolchain.toml` to make sure of.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// `targets` (the Wasm targets every build needs).
    Targets,
    /// `components` (rustfmt and clippy, which the suite runs).
    Components,
}

impl Part {
    /// The key in `rust-toolchain.toml` and the rustup subcommand.
    fn name(self) -> &'static str {
        match self {
            Self::Targets => "target",
            Self::Components => "component",
        }
    }
}

/// Adds what `part` of `rust-toolchain.toml` lists and rustup has not installed.
pub fn add_missing(part: Part) -> Result<()> {
    let path = root().join("rust-toolchain.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let key = format!("{}s", part.name());
    let wanted: Vec<&str> = file
        .get("toolchain")
        .and_then(|t| t.get(&key))
        .and_then(toml::Value::as_array)
        .map(|items| items.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    let Ok(installed) = Command::new("rustup")
        .args([part.name(), "list", "--installed"])
        .current_dir(root())
        .output()
    else {
        return Ok(());
    };
    let installed = String::from_utf8_lossy(&installed.stdout);
    // Components are listed with the host triple (`clippy-x86_64-unknown-linux-gnu`).
    let missing: Vec<&str> = wanted
        .into_iter()
        .filter(|w| {
            !installed.lines().map(str::trim).any(|line| {
                line == *w
                    || line
                        .strip_prefix(*w)
                        .is_some_and(|rest| rest.starts_with('-'))
            })
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("rustup")
        .args([part.name(), "add"])
        .args(&missing)
        .current_dir(root()))
}

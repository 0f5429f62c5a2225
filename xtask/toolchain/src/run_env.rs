//! The variables `cargo run` sets for the program it runs, which a cargo started by that
//! program must not inherit: build scripts such as ring's ask to rerun when `CARGO_PKG_NAME` or
//! `CARGO_MANIFEST_DIR` change *in cargo's own environment*, so a build started from xtask
//! would otherwise look different from one started from the bootstrap or a shell, and
//! recompile ring, rustls and everything above them each time the two alternate.

use std::process::Command;

/// Whether `name` is one of the variables `cargo run` sets for its program.
fn set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || matches!(
            name,
            "CARGO" | "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
        )
}

/// Removes from `command`'s environment every variable `cargo run` set for this program.
pub fn clear_cargo_run_env(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_run) {
            command.env_remove(name);
        }
    }
    command
}

#[cfg(test)]
mod tests {
    use super::set_by_cargo_run;

    #[test]
    fn only_what_cargo_run_sets_is_cleared() {
        for name in ["CARGO_PKG_NAME", "CARGO_MANIFEST_DIR", "CARGO", "OUT_DIR"] {
            assert!(set_by_cargo_run(name), "{name}");
        }
        for name in ["CARGO_HOME", "CARGO_TARGET_DIR", "RUSTUP_TOOLCHAIN", "PATH"] {
            assert!(!set_by_cargo_run(name), "{name}");
        }
    }
}

//! Asking rustup what it has installed and installing what the pin needs. Each question is
//! local (no network) and takes a few milliseconds, so every `cargo xtask` call asks.

use std::fmt;
use std::process::Command;

use crate::pin::{CHANNEL, COMPONENTS, TARGETS};

/// Why the toolchain could not be made ready.
#[derive(Debug)]
pub enum Error {
    /// `rustup` could not be started (it is not installed, or not on `PATH`).
    NoRustup(std::io::Error),
    /// A rustup command failed; the words are the command.
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRustup(e) => write!(f, "cannot run rustup: {e}"),
            Self::Failed(command) => write!(f, "`{command}` failed"),
        }
    }
}

impl std::error::Error for Error {}

/// Installs [`CHANNEL`] with [`COMPONENTS`] and [`TARGETS`] where rustup lacks it, or adds the
/// components and targets it lacks. Returns what it installed (empty when nothing was
/// missing), so callers can say so.
pub fn ensure_installed() -> Result<Vec<String>, Error> {
    let toolchains = listed(&["toolchain", "list"])?;
    if !toolchains.iter().any(|line| is_pin(line)) {
        let mut install = Command::new("rustup");
        // Installing a toolchain is all this asks: rustup itself is the user's to update.
        install.args([
            "toolchain",
            "install",
            CHANNEL,
            "--profile",
            "minimal",
            "--no-self-update",
        ]);
        for component in COMPONENTS {
            install.args(["--component", component]);
        }
        for target in TARGETS {
            install.args(["--target", target]);
        }
        run(&mut install)?;
        return Ok(std::iter::once(format!("Rust {CHANNEL}"))
            .chain(COMPONENTS.iter().chain(&TARGETS).map(|s| (*s).to_owned()))
            .collect());
    }
    let mut added = add_missing("component", &COMPONENTS)?;
    added.extend(add_missing("target", &TARGETS)?);
    Ok(added)
}

/// Whether a line of `rustup toolchain list` names the pin (`1.99.1-x86_64-unknown-linux-gnu`,
/// possibly followed by ` (default)` or ` (active)`).
fn is_pin(line: &str) -> bool {
    let name = line.split_whitespace().next().unwrap_or_default();
    name == CHANNEL
        || name
            .strip_prefix(CHANNEL)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// Adds the `kind`s (`component`, `target`) of `wanted` the pin lacks.
fn add_missing(kind: &str, wanted: &[&str]) -> Result<Vec<String>, Error> {
    let installed = listed(&[kind, "list", "--installed", "--toolchain", CHANNEL])?;
    // Components are listed with the host triple (`clippy-x86_64-unknown-linux-gnu`).
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| {
            !installed.iter().any(|line| {
                line == *w
                    || line
                        .strip_prefix(**w)
                        .is_some_and(|rest| rest.starts_with('-'))
            })
        })
        .map(|w| (*w).to_owned())
        .collect();
    if !missing.is_empty() {
        run(Command::new("rustup")
            .args([kind, "add", "--toolchain", CHANNEL])
            .args(&missing))?;
    }
    Ok(missing)
}

/// The trimmed lines `rustup args` prints.
fn listed(args: &[&str]) -> Result<Vec<String>, Error> {
    let output = Command::new("rustup")
        .args(args)
        .output()
        .map_err(Error::NoRustup)?;
    if !output.status.success() {
        return Err(Error::Failed(format!("rustup {}", args.join(" "))));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().to_owned())
        .collect())
}

/// Runs `command` with its output shown, failing if it does not succeed.
fn run(command: &mut Command) -> Result<(), Error> {
    let shown = format!("{command:?}");
    eprintln!("==> {shown}");
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(Error::Failed(shown)),
        Err(e) => Err(Error::NoRustup(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::is_pin;
    use crate::pin::CHANNEL;

    #[test]
    fn a_toolchain_line_names_the_pin_only_with_its_exact_release() {
        assert!(is_pin(&format!(
            "{CHANNEL}-x86_64-unknown-linux-gnu (default)"
        )));
        assert!(is_pin(CHANNEL));
        assert!(!is_pin(&format!("{CHANNEL}0-x86_64-unknown-linux-gnu")));
        assert!(!is_pin("stable-x86_64-unknown-linux-gnu (default)"));
        assert!(!is_pin(""));
    }
}

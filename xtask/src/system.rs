//! The system packages the project needs, in one list: `cargo xtask up` and `cargo xtask test`
//! check for them before building anything. Missing ones are installed with `apt-get` when the
//! command runs as root on Debian; anywhere else the command stops, naming the one
//! `apt-get install …` line that adds them.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::cmd::run;

/// What the command about to run does, and so which packages it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `cargo xtask up`: build the components and the host, and serve.
    Up,
    /// `cargo xtask test`: everything the suite uses.
    Test,
}

/// How to tell that a need is met without asking a package manager (so the check also works
/// where the tools came from elsewhere).
#[derive(Debug)]
enum Probe {
    /// A program on `PATH`.
    OnPath(&'static str),
    /// A file at a fixed path (the browser tests use Debian's paths).
    File(&'static str),
    /// A command that exits 0 when the need is met.
    Runs(&'static [&'static str]),
}

/// One thing the project needs from the system.
#[derive(Debug)]
struct Need {
    /// The Debian packages that provide it.
    debian: &'static [&'static str],
    probe: Probe,
    /// What uses it.
    why: &'static str,
    /// `up` needs it too (`test` needs every one).
    for_up: bool,
}

/// Everything, once.
const NEEDS: [Need; 13] = [
    Need {
        debian: &["gcc"],
        probe: Probe::OnPath("cc"),
        why: "the C compiler and linker for native crates",
        for_up: true,
    },
    Need {
        debian: &["pkg-config"],
        probe: Probe::OnPath("pkg-config"),
        why: "finding libseccomp for the containerd shim",
        for_up: false,
    },
    Need {
        debian: &["libseccomp-dev"],
        probe: Probe::Runs(&["pkg-config", "--exists", "libseccomp"]),
        why: "the containerd shim (containerd-shim-wasm)",
        for_up: false,
    },
    Need {
        debian: &["protobuf-compiler"],
        probe: Probe::OnPath("protoc"),
        why: "containerd's API bindings in the shim",
        for_up: false,
    },
    Need {
        debian: &["containerd"],
        probe: Probe::OnPath("containerd"),
        why: "the shim's end-to-end test under a private containerd",
        for_up: false,
    },
    Need {
        debian: &["chromium"],
        probe: Probe::File("/usr/bin/chromium"),
        why: "the page and web-crate tests in headless Chromium",
        for_up: false,
    },
    Need {
        debian: &["chromium-driver"],
        probe: Probe::File("/usr/bin/chromedriver"),
        why: "the web crate's wasm-bindgen tests (chromedriver)",
        for_up: false,
    },
    Need {
        debian: &["prometheus"],
        probe: Probe::OnPath("promtool"),
        why: "promtool and a live Prometheus in the deploy suite",
        for_up: false,
    },
    Need {
        debian: &["tmux"],
        probe: Probe::OnPath("tmux"),
        why: "the live stream's terminal test (what a terminal shows)",
        for_up: false,
    },
    Need {
        debian: &["curl"],
        probe: Probe::OnPath("curl"),
        why: "the live stream's terminal test (`curl -N`, as the README runs it) and HTTP/2 (`--http2`)",
        for_up: false,
    },
    Need {
        debian: &["nghttp2-client"],
        probe: Probe::OnPath("h2load"),
        why: "many HTTP/2 streams on one connection (`h2load`)",
        for_up: false,
    },
    Need {
        debian: &["python3-venv"],
        probe: Probe::Runs(&["python3", "-c", "import ensurepip, venv"]),
        why: "the deploy suite's Python tools (in a venv)",
        for_up: false,
    },
    Need {
        debian: &["nodejs", "npm"],
        probe: Probe::OnPath("npm"),
        why: "binaryen's wasm-opt for the browser bundle, and the test suites' node tools",
        for_up: true,
    },
];

/// Makes sure every package `purpose` needs is there: installs the missing ones as root on
/// Debian, or fails naming the `apt-get install` line.
pub fn ensure(purpose: Purpose) -> Result<()> {
    let missing = missing(purpose);
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing
        .iter()
        .flat_map(|n| n.debian.iter().copied())
        .collect();
    let reasons: Vec<String> = missing
        .iter()
        .map(|n| format!("  {} — {}", n.debian.join(" "), n.why))
        .collect();
    let line = format!("apt-get install -y {}", packages.join(" "));
    if !(heart_testing::is_root() && is_debian()) {
        bail!(
            "missing system packages:\n{}\ninstall them, then run this again:\n  sudo {line}",
            reasons.join("\n")
        );
    }
    eprintln!(
        "installing missing system packages:\n{}",
        reasons.join("\n")
    );
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-o", "DPkg::Lock::Timeout=600"])
        .args(&packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    let still: Vec<&str> = self::missing(purpose)
        .iter()
        .flat_map(|n| n.debian.iter().copied())
        .collect();
    if !still.is_empty() {
        bail!("`{line}` ran, but {} is still missing", still.join(", "));
    }
    Ok(())
}

/// The needs of `purpose` that are not met.
fn missing(purpose: Purpose) -> Vec<&'static Need> {
    NEEDS
        .iter()
        .filter(|n| purpose == Purpose::Test || n.for_up)
        .filter(|n| !n.probe.met())
        .collect()
}

impl Probe {
    fn met(&self) -> bool {
        match self {
            Self::OnPath(program) => on_path(program),
            Self::File(path) => Path::new(path).is_file(),
            Self::Runs(argv) => Command::new(argv[0])
                .args(&argv[1..])
                .output()
                .is_ok_and(|out| out.status.success()),
        }
    }
}

/// Whether `program` is an executable file in a `PATH` directory.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

fn is_debian() -> bool {
    Path::new("/etc/debian_version").is_file() && on_path("apt-get")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_needs_a_subset_of_what_test_needs() {
        let up: Vec<_> = NEEDS.iter().filter(|n| n.for_up).collect();
        assert!(!up.is_empty(), "up needs at least the C toolchain");
        assert!(up.len() < NEEDS.len(), "up does not need the test tools");
    }

    #[test]
    fn every_need_names_debian_packages_and_a_reason() {
        for need in &NEEDS {
            assert!(!need.debian.is_empty(), "{need:?}");
            assert!(!need.why.is_empty(), "{need:?}");
        }
    }

    #[test]
    fn probes_tell_present_from_absent() {
        assert!(Probe::OnPath("sh").met());
        assert!(!Probe::OnPath("no-such-program-heart-display").met());
        assert!(Probe::File("/bin/sh").met());
        assert!(!Probe::File("/no/such/file").met());
        assert!(Probe::Runs(&["true"]).met());
        assert!(!Probe::Runs(&["false"]).met());
        assert!(!Probe::Runs(&["no-such-program-heart-display"]).met());
    }
}

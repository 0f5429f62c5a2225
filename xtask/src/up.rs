//! `cargo xtask up`: check the system, build what `spin.toml` serves (the bundle, the WASI 0.2
//! component, the release host as users run it), then serve the app with heart-host on
//! 127.0.0.1:3000 until Ctrl-C.

use std::process::{Command, ExitStatus};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cmd::root;
use crate::system::{self, Purpose};

/// Builds the components and the host, runs `heart-host up` with `extra` arguments, and
/// returns its exit status once it has stopped.
pub fn up(extra: &[String]) -> Result<ExitStatus> {
    system::ensure(Purpose::Up)?;
    crate::build::served()?;
    let host_binary = crate::build::up_host()?;
    // Registered before the host starts, so a signal can never find this process with its
    // default (dying) disposition while the host runs.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP]).context("handling signals")?;
    let handle = signals.handle();
    let mut host = Command::new(host_binary);
    host.args(["up", "--from", "spin.toml"])
        .args(extra)
        .current_dir(root());
    eprintln!("\n==> {host:?}");
    let mut child = host.spawn().context("starting heart-host")?;
    let pid = Pid::from_raw(i32::try_from(child.id()).context("heart-host's pid")?);
    // Ctrl-C reaches the whole foreground group, heart-host included; a signal sent to this
    // process alone is passed on. Either way heart-host shuts down gracefully (in-flight
    // requests finish) and this process leaves with its status rather than before it.
    let forward = std::thread::spawn(move || {
        for signal in signals.forever() {
            if let Ok(signal) = Signal::try_from(signal) {
                let _ = kill(pid, signal);
            }
        }
    });
    let status = child.wait().context("waiting for heart-host");
    handle.close();
    forward.join().expect("the signal thread does not panic");
    status
}

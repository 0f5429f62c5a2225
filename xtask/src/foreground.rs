//! A command run as a shell runs a foreground job: in a process group of its own, stopped by
//! Ctrl-C (SIGINT to the whole group) and expected to leave with exit status 0 within the
//! host's shutdown grace; killed whole (SIGKILL to the group) when the check around it fails.
//! The README run check and the watch check run their commands so.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// heart-host's default shutdown grace (`--shutdown-grace-secs`), plus a second for the exits
/// of the processes around it.
const STOP_WITHIN: Duration = Duration::from_secs(11);

/// A running foreground job.
#[derive(Debug)]
pub struct Job {
    /// The group leader: the command itself.
    pub child: Child,
    group: Pid,
    name: String,
}

/// Starts `command` (named `name` in messages) in a group of its own and hands it to `check`;
/// when `check` fails, the whole group is killed before the error is returned.
pub fn run<T>(
    command: &mut Command,
    name: &str,
    check: impl FnOnce(&mut Job) -> Result<T>,
) -> Result<T> {
    command.process_group(0);
    let child = command
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    let group = Pid::from_raw(i32::try_from(child.id()).context("the group's pid")?);
    let mut job = Job {
        child,
        group,
        name: name.to_owned(),
    };
    let outcome = check(&mut job);
    if outcome.is_err() {
        // Never leave the group running, whatever failed.
        let _ = killpg(job.group, Signal::SIGKILL);
        let _ = job.child.wait();
    }
    outcome
}

impl Job {
    /// Ctrl-C: SIGINT to the group; fails unless the command exits 0 within the grace.
    pub fn ctrl_c(&mut self) -> Result<()> {
        killpg(self.group, Signal::SIGINT).context("sending SIGINT to the group")?;
        let status = self.wait_within(STOP_WITHIN)?;
        if !status.success() {
            bail!("after Ctrl-C, {} exited with {status}, not 0", self.name);
        }
        eprintln!("ok: Ctrl-C stopped {} with exit status 0", self.name);
        Ok(())
    }

    /// Waits for the command to exit, at most `limit`.
    fn wait_within(&mut self, limit: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!("{} was still running {limit:?} after Ctrl-C", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

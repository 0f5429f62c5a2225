//! A process the tests, benchmarks and xtask start: stopped by its PID whenever it is dropped
//! (SIGTERM, then SIGKILL once its grace is over), whatever the test did; and the line
//! heart-host prints once it listens, read from its output.

use std::io::BufRead;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

pub use nix::sys::signal::Signal;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// The start of the line heart-host prints once it is listening, followed by its URL.
pub const LISTENING: &str = "heart-host listening on ";

/// A running child process, stopped when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// How long a SIGTERM may take before SIGKILL follows.
    grace: Duration,
}

impl Running {
    /// Takes charge of `child`, which gets `grace` to exit after SIGTERM.
    pub fn new(child: Child, grace: Duration) -> Self {
        Self { child, grace }
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child itself (its pipes, its status).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Sends `signal` to it (nothing when it is gone).
    pub fn signal(&self, signal: Signal) {
        send(self.pid(), signal);
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM and waits up to `within` for it to exit; its status, or `None` if it is
    /// still running.
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it: SIGTERM, then SIGKILL once its grace is over; its exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.terminate(self.grace) {
            return Some(status);
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `signal` to process `pid` (nothing when it is gone).
pub fn send(pid: u32, signal: Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The base URL (no trailing `/`) in heart-host's "listening on" line, or `None` for any
/// other line.
pub fn listening_url(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix(LISTENING)
        .map(|url| url.trim_end_matches('/'))
}

/// Reads `output` up to heart-host's "listening on" line and returns its base URL; each line
/// before it goes to `other`. `None` when the output ends first (the process stopped).
pub fn read_listening_url(
    output: &mut impl BufRead,
    mut other: impl FnMut(&str),
) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if output.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(url) = listening_url(&line) {
            return Some(url.to_owned());
        }
        other(&line);
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    #[test]
    fn the_listening_line_gives_the_base_url() {
        let line = "heart-host listening on http://127.0.0.1:4321/\n";
        assert_eq!(listening_url(line), Some("http://127.0.0.1:4321"));
        assert_eq!(listening_url("building heart-host\n"), None);
        let mut before = Vec::new();
        let mut output = "compiling\nheart-host listening on http://[::1]:80/\nlater\n".as_bytes();
        let url = read_listening_url(&mut output, |l| before.push(l.trim().to_owned()));
        assert_eq!(url.as_deref(), Some("http://[::1]:80"));
        assert_eq!(before, ["compiling"]);
        assert_eq!(
            read_listening_url(&mut "no line\n".as_bytes(), |_| ()),
            None
        );
    }

    #[test]
    fn a_process_that_ignores_sigterm_is_killed_after_its_grace() {
        let child = Command::new("sh")
            .args(["-c", "trap '' TERM; echo ready; sleep 30"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh runs");
        let mut running = Running::new(child, Duration::from_millis(200));
        let stdout = running.child_mut().stdout.take().expect("piped");
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .expect("reads");
        assert_eq!(first, "ready\n", "the trap is set");
        assert!(
            running.terminate(Duration::from_millis(100)).is_none(),
            "SIGTERM is ignored"
        );
        let status = running.stop().expect("it exits");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
    }

    #[test]
    fn a_process_that_honours_sigterm_exits_with_it() {
        let child = Command::new("sleep").arg("30").spawn().expect("sleep runs");
        let mut running = Running::new(child, Duration::from_secs(5));
        let status = running.terminate(Duration::from_secs(5)).expect("exits");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(15)
        );
    }
}

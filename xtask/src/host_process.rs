//! The servers xtask starts and measures: heart-host, whose address is read from the line it
//! prints once it listens, or another server (`wasmtime serve`) at a port chosen first; its
//! resident memory and open files read from `/proc`; stopped by its PID when dropped (SIGTERM,
//! then SIGKILL after a grace). Used by the bench, the soak, the README's run-command check and
//! the plain-WASI check.

use std::io::BufRead;
use std::io::BufReader;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a stopped server may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// A running server, stopped when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing `/`.
    pub base: String,
}

impl ServerProcess {
    /// Starts heart-host with `command` (its stdout is piped here) and reads its address.
    pub fn host(mut command: Command) -> Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .context("starting heart-host")?;
        let stdout = child.stdout.take().context("piped stdout")?;
        match base_url(&mut BufReader::new(stdout)) {
            Ok(base) => Ok(Self { child, base }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// Starts a server with `command` that listens at `base`, and waits (up to `limit`) until
    /// it answers [`wait_ready`]'s request.
    pub fn at(mut command: Command, base: String, limit: Duration) -> Result<Self> {
        let child = command
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let server = Self { child, base };
        wait_ready(&server.base, limit)?;
        Ok(server)
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory, in MB.
    pub fn rss_mb(&self) -> f64 {
        rss_mb(self.pid())
    }

    /// How many files it has open.
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, Iterator::count)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `stdout` up to heart-host's "listening on" line and returns the base URL (no
/// trailing `/`). Earlier lines are passed on to stderr; the stream ending first is an error.
pub fn base_url(stdout: &mut impl BufRead) -> Result<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            bail!(
                "heart-host stopped before it printed `{}<url>`",
                heart_testing::LISTENING
            );
        }
        if let Some(url) = heart_testing::listening_url(&line) {
            return Ok(url.to_owned());
        }
        eprint!("{line}");
    }
}

/// The resident memory of process `pid`, in MB (0 when it is gone).
pub fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `base` answers `GET /api/symbol` with 200, at most `limit`; the time it took.
pub fn wait_ready(base: &str, limit: Duration) -> Result<Duration> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let url = format!("{base}/api/symbol");
    let started = Instant::now();
    while started.elapsed() < limit {
        if agent.get(&url).call().is_ok_and(|r| r.status() == 200) {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    bail!("{base} did not answer 200 within {limit:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_url_after_other_lines() {
        let mut out = "building\nheart-host listening on http://127.0.0.1:4321/\nmore\n".as_bytes();
        assert_eq!(base_url(&mut out).expect("a URL"), "http://127.0.0.1:4321");
    }

    #[test]
    fn a_stream_without_the_line_is_an_error() {
        let mut out = "error: address in use\n".as_bytes();
        let err = base_url(&mut out).expect_err("no URL");
        assert!(err.to_string().contains("stopped before"), "{err}");
    }

    #[test]
    fn a_process_reads_its_own_memory_and_files() {
        let me = std::process::id();
        assert!(
            rss_mb(me) > 1.0,
            "this test process has some memory resident"
        );
        assert_eq!(rss_mb(u32::MAX), 0.0, "no such process");
    }
}

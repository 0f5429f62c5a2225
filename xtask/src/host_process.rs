//! The servers xtask starts and measures: heart-host, whose address is read from the line it
//! prints once it listens, or another server (`wasmtime serve`) at a port chosen first; its
//! resident memory (procfs) and open files; stopped by its PID when dropped (SIGTERM, then
//! SIGKILL after a grace: [`heart_testing::Running`]). Used by the bench, the soak, the README's
//! run-command check and the plain-WASI check.

use std::io::BufRead;
use std::io::BufReader;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use heart_testing::Running;

/// How long a stopped server may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// A running server, stopped when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Running,
    /// `http://127.0.0.1:PORT`, no trailing `/`.
    pub base: String,
}

impl ServerProcess {
    /// Starts heart-host with `command` (its stdout is piped here) and reads its address.
    pub fn host(mut command: Command) -> Result<Self> {
        let child = command
            .stdout(Stdio::piped())
            .spawn()
            .context("starting heart-host")?;
        // Stopped by its PID from here on, should reading its address fail.
        let mut child = Running::new(child, STOP_GRACE);
        let stdout = child.child_mut().stdout.take().context("piped stdout")?;
        let base = base_url(&mut BufReader::new(stdout))?;
        Ok(Self { child, base })
    }

    /// Starts a server with `command` that listens at `base`, and waits (up to `limit`) until
    /// it answers [`wait_ready`]'s request.
    pub fn at(mut command: Command, base: String, limit: Duration) -> Result<Self> {
        let child = command
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let server = Self {
            child: Running::new(child, STOP_GRACE),
            base,
        };
        wait_ready(&server.base, limit)?;
        Ok(server)
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.pid()
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

/// Reads `stdout` up to heart-host's "listening on" line and returns the base URL (no
/// trailing `/`). Earlier lines are passed on to stderr; the stream ending first is an error.
pub fn base_url(stdout: &mut impl BufRead) -> Result<String> {
    heart_testing::read_listening_url(stdout, |line| eprint!("{line}")).with_context(|| {
        format!(
            "heart-host stopped before it printed `{}<url>`",
            heart_testing::LISTENING
        )
    })
}

/// The resident memory of process `pid`, in MB (0 when it is gone).
pub fn rss_mb(pid: u32) -> f64 {
    heart_testing::process::resident_bytes(pid)
        .map_or(0.0, |bytes| bytes as f64 / (1024.0 * 1024.0))
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

//! `cargo xtask watch`, run as a developer runs it, in a copy of the checkout (its tracked and
//! untracked-but-not-ignored files) sharing this run's target directory, as a process group of
//! its own:
//!
//! 1. once it prints its URL, a keep-alive connection answers and a `/live` stream is opened;
//! 2. an edit to the WASI 0.2 component's source (a header on every answer) is rebuilt and
//!    swapped in: the connection, asked every 250 ms throughout, is answered by the new code
//!    once it is in, and the stream opened before goes on sending frames;
//! 3. a broken edit (a type error) prints a failed build, and the same connection is still
//!    answered by the last good code;
//! 4. Ctrl-C (SIGINT to the group) stops it with exit status 0.
//!
//! The copy's builds use the same target directory under other source paths, so cargo builds
//! the workspace's own crates again there (and again here next time): the check runs last.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use heart_testing::keep_alive::KeepAlive;

use crate::cmd::{cargo, root};
use crate::foreground::{self, Job};

/// The line the edit goes before, in the component's source.
const ANCHOR: &str = "    io::respond(response_out, plain);";

/// The file edited.
const EDITED: &str = "components/heart-http/src/lib.rs";

/// The header the edit adds, and its value.
const HEADER: (&str, &str) = ("x-watch-edit", "1");

/// How long a rebuild may take before the check gives up (a cold target directory builds the
/// copy's workspace crates first).
const BUILD_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Runs the check; fails naming what did not happen.
pub fn check() -> Result<()> {
    let copy = tempfile::tempdir().context("a temp dir")?;
    copy_checkout(&root(), copy.path())?;
    let port = crate::host_process::free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let mut watch = cargo();
    watch
        .args(["xtask", "watch", "--", "--listen", &listen])
        .current_dir(copy.path())
        // The copy builds into this run's target directory, not a cold one of its own.
        .env("CARGO_TARGET_DIR", crate::build::target_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!("\n==> {watch:?} in a copy of the checkout");
    foreground::run(&mut watch, "cargo xtask watch", |job| {
        exercise(job, &listen, copy.path())
    })
}

/// Copies the checkout's files (tracked, and untracked but not ignored) from `from` to `to`.
fn copy_checkout(from: &Path, to: &Path) -> Result<()> {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(from)
        .output()
        .context("running git ls-files")?;
    ensure!(listed.status.success(), "git ls-files failed");
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = Path::new(std::str::from_utf8(name).context("a UTF-8 path")?);
        let source = from.join(name);
        // Listed but deleted in the work tree.
        if !source.is_file() {
            continue;
        }
        let target = to.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&source, &target).with_context(|| format!("copying {}", name.display()))?;
    }
    Ok(())
}

fn exercise(job: &mut Job, listen: &str, copy: &Path) -> Result<()> {
    let lines = echo_stderr(&mut job.child)?;
    let mut stdout = BufReader::new(job.child.stdout.take().context("piped stdout")?);
    let base = crate::host_process::base_url(&mut stdout)?;
    let echo = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::stderr()));
    ensure!(base == format!("http://{listen}"), "watch printed {base}");

    let mut connection = KeepAlive::open(&base);
    let first = connection.get("/api/symbol");
    ensure!(
        first.status == 200 && first.header(HEADER.0).is_none(),
        "before the edit: {first:?}"
    );
    let mut stream = LiveStream::open(listen)?;
    stream.wait_for_bytes(Duration::from_secs(10))?;

    // An edit: every answer gets a header.
    let source = copy.join(EDITED);
    let original = std::fs::read_to_string(&source)?;
    ensure!(
        original.contains(ANCHOR),
        "{EDITED} no longer holds {ANCHOR:?}"
    );
    let edit = |value: &str| {
        original.replace(
            ANCHOR,
            &format!(
                "    let mut plain = plain;\n    plain.headers.push((\"{}\", {value}));\n{ANCHOR}",
                HEADER.0
            ),
        )
    };
    let edited = Instant::now();
    std::fs::write(&source, edit(&format!("\"{}\".to_owned()", HEADER.1)))?;
    // Asked every 250 ms through the rebuild and the swap (an idle keep-alive connection
    // would be closed after the host's header-read timeout, swap or not).
    let mut asked = 0;
    loop {
        let answer = connection.get("/api/symbol");
        asked += 1;
        if answer.header(HEADER.0) == Some(HEADER.1) {
            break;
        }
        ensure!(answer.status == 200, "during the rebuild: {answer:?}");
        ensure!(
            edited.elapsed() < BUILD_LIMIT,
            "the edit does not serve {BUILD_LIMIT:?} after the save"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    ensure!(
        lines.try_iter().any(|line| line.contains("rebuilt in")),
        "watch did not print its rebuild and its time"
    );
    eprintln!(
        "ok: the edit serves {:.1} s after the save, on the connection that answered {asked} requests across the rebuild and the swap",
        edited.elapsed().as_secs_f64()
    );
    stream.wait_for_bytes(Duration::from_secs(10))?;
    eprintln!("ok: the /live stream opened before the edit goes on");

    // A broken edit (a type error): the build fails and the last good code keeps serving.
    std::fs::write(&source, edit("1_u8"))?;
    let broken = Instant::now();
    loop {
        let answer = connection.get("/api/symbol");
        ensure!(
            answer.status == 200 && answer.header(HEADER.0) == Some(HEADER.1),
            "after a broken edit the last good code does not serve: {answer:?}"
        );
        if lines.try_iter().any(|line| line.contains("build failed")) {
            break;
        }
        ensure!(
            broken.elapsed() < BUILD_LIMIT,
            "no failed build printed {BUILD_LIMIT:?} after the broken edit"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let after = connection.get("/api/symbol");
    ensure!(
        after.header(HEADER.0) == Some(HEADER.1),
        "after the failed build: {after:?}"
    );
    eprintln!("ok: a broken edit prints its failure and the last good code keeps serving");
    drop(stream);

    job.ctrl_c()?;
    let _ = echo.join();
    Ok(())
}

/// Passes the child's stderr on, line by line, and hands each line to the check.
fn echo_stderr(child: &mut Child) -> Result<Receiver<String>> {
    let stderr = child.stderr.take().context("piped stderr")?;
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    Ok(received)
}

/// A `/live` stream, drained on its own thread (a stream that is not read stalls and is ended
/// by the host's progress timeout) that counts what arrives.
struct LiveStream {
    received: Arc<AtomicU64>,
    socket: TcpStream,
}

impl LiveStream {
    fn open(listen: &str) -> Result<Self> {
        let mut socket = TcpStream::connect(listen).context("connecting for /live")?;
        write!(
            socket,
            "GET /live?ascii=1&fps=10&seconds=3600 HTTP/1.0\r\nHost: {listen}\r\n\r\n"
        )?;
        let received = Arc::new(AtomicU64::new(0));
        let mut reader = socket.try_clone().context("a second handle")?;
        let counted = received.clone();
        std::thread::spawn(move || {
            let mut buffer = [0; 16 * 1024];
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                counted.fetch_add(n as u64, Ordering::Relaxed);
            }
        });
        Ok(Self { received, socket })
    }

    /// Waits until more bytes than so far arrive.
    fn wait_for_bytes(&mut self, limit: Duration) -> Result<()> {
        let before = self.received.load(Ordering::Relaxed);
        let deadline = Instant::now() + limit;
        while self.received.load(Ordering::Relaxed) == before {
            ensure!(
                Instant::now() < deadline,
                "the /live stream sent nothing for {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

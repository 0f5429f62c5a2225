//! `cargo xtask watch`: `cargo xtask up`, then a rebuild on every change that matters, swapped
//! into the running host without a restart.
//!
//! - **What is watched**: the sources under `components/` and `web/`, and `spin.toml`,
//!   `Cargo.toml` and `Cargo.lock` at the root ([`Sources`]). Never build outputs (`target/`,
//!   `dist/`, `node_modules/`), hidden files or editor droppings (`*~`, `*.swp`, `.#*`, vim's
//!   `4913` probe): a build cannot trigger itself (the loop spin #1403 fell into).
//! - **What counts as a change**: a file whose bytes differ from the last build's. An event
//!   for a file saved unchanged, touched or rewritten with the same bytes builds nothing (the
//!   restarts on files that do not matter of spin #2202).
//! - **What is rebuilt**: what `cargo xtask up` builds for `spin.toml` (the browser bundle and
//!   the WASI 0.2 component, each only as far as cargo finds it stale), written into `dist/` in
//!   one rename. heart-host runs with `--watch`: it sees the new file, compiles it beside the
//!   old code and swaps it in for the next request; running requests and open `/live` streams
//!   finish on the old code, and no connection is dropped.
//! - **A build error** is printed with the time it took; `dist/` is untouched, so the last good
//!   component keeps serving, and the next change builds again.
//! - **`spin.toml`** names the routes and components themselves: a change to it restarts
//!   heart-host (gracefully: in-flight requests finish, streams get their closing frame).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use notify::{RecursiveMode, Watcher};
use sha2::{Digest, Sha256};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cmd::root;
use crate::system::{self, Purpose};

/// The folders whose sources are watched, below the root.
const FOLDERS: [&str; 2] = ["components", "web"];

/// The root's files that are watched.
const ROOT_FILES: [&str; 3] = ["spin.toml", "Cargo.toml", "Cargo.lock"];

/// Folders never watched: build outputs and tools' state.
const SKIPPED_FOLDERS: [&str; 4] = ["target", "dist", "node_modules", "pkg"];

/// How long the files must be quiet before a build starts: an editor's save, or a `git
/// checkout`, is many events.
const SETTLE: Duration = Duration::from_millis(200);

/// What wakes the loop.
enum Wake {
    /// Something changed on disk (which is decided by comparing contents).
    Files,
    /// Ctrl-C or a stop signal: the host was told too.
    Stop,
}

/// Builds, serves `spin.toml` with heart-host `--watch` and `extra` arguments, rebuilds on
/// every change until Ctrl-C, and returns the host's exit status.
pub fn watch(extra: &[String]) -> Result<ExitStatus> {
    system::ensure(Purpose::Up)?;
    let (wakes, woken) = mpsc::channel();
    let _watcher = watch_sources(wakes.clone())?;
    let mut sources = Sources::read(&root())?;
    crate::build::served()?;
    let host_binary = crate::build::up_host()?;
    // Registered before the host starts, so a signal never finds this process with its
    // default (dying) disposition while the host runs.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP]).context("handling signals")?;
    let handle = signals.handle();
    let mut host = Host::start(&host_binary, extra)?;
    let host_pid = host.pid.clone();
    // Ctrl-C reaches the whole foreground group (heart-host and a running cargo included); a
    // signal sent to this process alone is passed on. Either way the loop ends.
    let forward = std::thread::spawn(move || {
        for signal in signals.forever() {
            if let (Ok(signal), Ok(pid)) = (Signal::try_from(signal), host_pid.lock()) {
                let _ = kill(*pid, signal);
            }
            if wakes.send(Wake::Stop).is_err() {
                break;
            }
        }
    });
    eprintln!("\n==> watching components/, web/ and spin.toml; Ctrl-C stops");
    let status = serve(&mut host, &mut sources, &woken, &host_binary, extra);
    handle.close();
    forward.join().expect("the signal thread does not panic");
    status
}

/// The loop: each settled change is rebuilt (or restarts the host), until a stop or the
/// host's own exit.
fn serve(
    host: &mut Host,
    sources: &mut Sources,
    woken: &Receiver<Wake>,
    host_binary: &Path,
    extra: &[String],
) -> Result<ExitStatus> {
    loop {
        match woken.recv_timeout(Duration::from_millis(500)) {
            Ok(Wake::Stop) => return host.wait(),
            Ok(Wake::Files) => {
                if settle(woken) {
                    return host.wait();
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(status) = host.child.try_wait().context("polling heart-host")? {
                    eprintln!("heart-host exited ({status}); watch stops");
                    return Ok(status);
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return host.wait(),
        }
        let now = Sources::read(&root())?;
        let changed = sources.changed(&now);
        if changed.is_empty() {
            continue;
        }
        eprintln!("\n==> changed: {}", summary(&changed));
        let started = Instant::now();
        // Built or refused, these contents are done with: only a new change builds again (a
        // fix, or a revert to the last good build).
        *sources = now;
        match crate::build::served() {
            Ok(()) => {
                eprintln!(
                    "==> rebuilt in {:.1} s; heart-host swaps the new component in",
                    started.elapsed().as_secs_f64()
                );
                if changed.iter().any(|path| path == Path::new("spin.toml")) {
                    eprintln!("==> spin.toml changed: restarting heart-host");
                    host.restart(host_binary, extra)?;
                }
            }
            Err(e) => eprintln!(
                "==> build failed after {:.1} s ({e:#}); heart-host keeps serving the last good build",
                started.elapsed().as_secs_f64()
            ),
        }
    }
}

/// Waits until no event has come for [`SETTLE`]; true when a stop came meanwhile.
fn settle(woken: &Receiver<Wake>) -> bool {
    loop {
        match woken.recv_timeout(SETTLE) {
            Ok(Wake::Files) => {}
            Ok(Wake::Stop) => return true,
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => return true,
        }
    }
}

/// The changed paths, for a line.
fn summary(changed: &[PathBuf]) -> String {
    const SHOWN: usize = 4;
    let mut names: Vec<String> = changed
        .iter()
        .take(SHOWN)
        .map(|p| p.display().to_string())
        .collect();
    if changed.len() > SHOWN {
        names.push(format!("and {} more", changed.len() - SHOWN));
    }
    names.join(", ")
}

/// Watches the folders (recursively) and the root (for its files); every event wakes the loop.
fn watch_sources(wakes: mpsc::Sender<Wake>) -> Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && event
                .paths
                .iter()
                .any(|path| path.strip_prefix(root()).is_ok_and(watched))
        {
            let _ = wakes.send(Wake::Files);
        }
    })
    .context("starting the file watcher")?;
    for folder in FOLDERS {
        watcher
            .watch(&root().join(folder), RecursiveMode::Recursive)
            .with_context(|| format!("watching {folder}/"))?;
    }
    watcher
        .watch(&root(), RecursiveMode::NonRecursive)
        .context("watching the root")?;
    Ok(watcher)
}

/// Whether a path (relative to the root) is a source that is watched.
fn watched(relative: &Path) -> bool {
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy());
    let Some(first) = parts.next() else {
        return false;
    };
    let rest: Vec<_> = parts.collect();
    if rest.is_empty() {
        return ROOT_FILES.contains(&first.as_ref());
    }
    if !FOLDERS.contains(&first.as_ref()) {
        return false;
    }
    let (name, folders) = rest.split_last().expect("not empty");
    let skipped_folder = folders
        .iter()
        .any(|f| f.starts_with('.') || SKIPPED_FOLDERS.contains(&f.as_ref()));
    let dropping = name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.as_ref() == "4913";
    !skipped_folder && !dropping
}

/// The watched files' contents (their digests), by path relative to the root.
#[derive(Debug, Default, PartialEq, Eq)]
struct Sources(BTreeMap<PathBuf, [u8; 32]>);

impl Sources {
    /// Reads every watched file under `root`.
    fn read(root: &Path) -> Result<Self> {
        let mut files = BTreeMap::new();
        for name in ROOT_FILES {
            add(root, Path::new(name), &mut files)?;
        }
        let mut folders: Vec<PathBuf> = FOLDERS.iter().map(PathBuf::from).collect();
        while let Some(folder) = folders.pop() {
            let entries = std::fs::read_dir(root.join(&folder))
                .with_context(|| format!("reading {}", folder.display()))?;
            for entry in entries {
                let entry = entry?;
                let relative = folder.join(entry.file_name());
                if entry.file_type()?.is_dir() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !name.starts_with('.') && !SKIPPED_FOLDERS.contains(&name.as_str()) {
                        folders.push(relative);
                    }
                } else if watched(&relative) {
                    add(root, &relative, &mut files)?;
                }
            }
        }
        Ok(Self(files))
    }

    /// The paths added, removed or changed in `now`.
    fn changed(&self, now: &Self) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = now
            .0
            .iter()
            .filter(|(path, digest)| self.0.get(*path) != Some(*digest))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            self.0
                .keys()
                .filter(|path| !now.0.contains_key(*path))
                .cloned(),
        );
        changed.sort();
        changed
    }
}

/// Adds `relative`'s digest to `files`; a file that vanished meanwhile is left out.
fn add(root: &Path, relative: &Path, files: &mut BTreeMap<PathBuf, [u8; 32]>) -> Result<()> {
    match std::fs::read(root.join(relative)) {
        Ok(bytes) => {
            files.insert(relative.to_owned(), Sha256::digest(&bytes).into());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("reading {}", relative.display())),
    }
}

/// heart-host serving `spin.toml` with `--watch`.
struct Host {
    child: Child,
    /// Shared with the signal thread, which passes signals on to the current host.
    pid: Arc<Mutex<Pid>>,
}

/// Starts heart-host with `--watch` and `extra` arguments.
fn spawn_host(binary: &Path, extra: &[String]) -> Result<(Child, Pid)> {
    let mut command = Command::new(binary);
    command
        .args(["up", "--from", "spin.toml", "--watch"])
        .args(extra)
        .current_dir(root());
    eprintln!("\n==> {command:?}");
    let child = command.spawn().context("starting heart-host")?;
    let pid = Pid::from_raw(i32::try_from(child.id()).context("heart-host's pid")?);
    Ok((child, pid))
}

impl Host {
    fn start(binary: &Path, extra: &[String]) -> Result<Self> {
        let (child, pid) = spawn_host(binary, extra)?;
        Ok(Self {
            child,
            pid: Arc::new(Mutex::new(pid)),
        })
    }

    /// Stops it gracefully (SIGTERM: in-flight requests finish and streams get their closing
    /// frame), waits, and starts it again.
    fn restart(&mut self, binary: &Path, extra: &[String]) -> Result<()> {
        let mut pid = self.pid.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = kill(*pid, Signal::SIGTERM);
        self.child.wait().context("waiting for heart-host")?;
        (self.child, *pid) = spawn_host(binary, extra)?;
        Ok(())
    }

    /// Waits for it to exit (it was told to stop).
    fn wait(&mut self) -> Result<ExitStatus> {
        self.child.wait().context("waiting for heart-host")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Sources, watched};

    #[test]
    fn sources_are_watched_and_build_outputs_and_editor_files_are_not() {
        for path in [
            "spin.toml",
            "Cargo.lock",
            "components/heart-core/src/lib.rs",
            "web/static/app.js",
            "components/heart-http/wit/world.wit",
        ] {
            assert!(watched(Path::new(path)), "{path} is a source");
        }
        for path in [
            "README.md",
            "dist/heart_http.wasm",
            "target/release/heart-host",
            "host/src/lib.rs",
            "web/target/x.rs",
            "web/node_modules/binaryen/index.js",
            "components/heart-core/.git/HEAD",
            "components/heart-core/src/.lib.rs.swp",
            "components/heart-core/src/lib.rs~",
            "components/heart-core/src/.#lib.rs",
            "components/heart-core/src/4913",
            "components/heart-core/src/#lib.rs#",
        ] {
            assert!(!watched(Path::new(path)), "{path} is not a source");
        }
    }

    #[test]
    fn only_new_bytes_count_as_a_change() {
        let root = tempfile::tempdir().expect("a temp dir");
        let file = |name: &str, text: &str| {
            let path = root.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
            std::fs::write(path, text).expect("writing");
        };
        file("spin.toml", "a");
        file("components/x/src/lib.rs", "fn a() {}");
        file("web/static/app.js", "1");
        file("components/x/target/out", "built");
        let before = Sources::read(root.path()).expect("read");
        assert_eq!(before.0.len(), 3, "{before:?}");

        // The same bytes saved again, and a build output: nothing changed.
        file("components/x/src/lib.rs", "fn a() {}");
        file("components/x/target/out", "built again");
        let same = Sources::read(root.path()).expect("read");
        assert!(before.changed(&same).is_empty());

        file("components/x/src/lib.rs", "fn b() {}");
        file("web/static/new.js", "2");
        std::fs::remove_file(root.path().join("spin.toml")).expect("removing");
        let after = Sources::read(root.path()).expect("read");
        let changed: Vec<String> = before
            .changed(&after)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            changed,
            ["components/x/src/lib.rs", "spin.toml", "web/static/new.js"]
        );
    }
}

//! A private containerd for tests and benchmarks: Debian's containerd with its own root, state
//! and sockets under a temp dir, the heart shim on its PATH, and the CRI plugin off or, for the
//! node tests ([`crate::cri`]), on with the `heart` runtime handler. Stopped by its PID (SIGTERM,
//! then SIGKILL) and its directories removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::child::{Running, is_root};

/// How long containerd gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// containerd's gRPC socket in its directory.
const SOCKET: &str = "containerd.sock";

/// Its shims' compile cache in its directory (`HEART_NODE_CACHE_DIR`).
const NODE_CACHE: &str = "node-cache";

/// containerd's runtime type for the heart shim (`containerd-shim-heart-v1`).
pub const RUNTIME: &str = "io.containerd.heart.v1";

/// A running private containerd.
#[derive(Debug)]
pub struct PrivateContainerd {
    child: Running,
    dir: tempfile::TempDir,
    address: PathBuf,
    config: PathBuf,
    bin: PathBuf,
}

impl PrivateContainerd {
    /// The node cache its shims compile into (`HEART_NODE_CACHE_DIR`, empty at start).
    pub fn node_cache_dir(&self) -> PathBuf {
        self.dir.path().join(NODE_CACHE)
    }

    /// Starts containerd with `shim` (the `containerd-shim-heart-v1` binary) on its PATH and
    /// the CRI plugin off, and waits until it answers; panics with the reason and containerd's
    /// log when it cannot.
    pub fn start(shim: &Path) -> PrivateContainerd {
        PrivateContainerd::start_with(shim, None)
    }

    /// As [`PrivateContainerd::start`], with the CRI plugin on when `cri` names its sandbox
    /// image: runtime handler `heart` → [`RUNTIME`], no CNI network (pods use the node's), its
    /// streaming server on a free loopback port.
    pub fn start_with(shim: &Path, cri: Option<&CriPlugin>) -> PrivateContainerd {
        let dir = Self::new_dir();
        let d = dir.path();
        let bin = d.join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        std::fs::copy(shim, bin.join("containerd-shim-heart-v1")).expect("copying the shim");
        let config = d.join("config.toml");
        std::fs::write(&config, Self::config(d, cri)).expect("config");
        Self::start_in(dir, config, bin)
    }

    /// A new directory for a private containerd's root, state and sockets.
    pub fn new_dir() -> tempfile::TempDir {
        assert!(
            is_root(),
            "the containerd end-to-end test needs root (containerd mounts snapshots and \
             creates namespaces); run it as root, as CI does"
        );
        tempfile::Builder::new()
            .prefix("heart-containerd-")
            .tempdir()
            .expect("temp dir")
    }

    /// The config of a private containerd keeping its root, state and sockets in `dir`, with
    /// the CRI plugin as `cri` says (off when `None`).
    pub fn config(dir: &Path, cri: Option<&CriPlugin>) -> String {
        let plugins = match cri {
            None => "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n".to_owned(),
            Some(cri) => cri.config(dir),
        };
        format!(
            "version = 2\nroot = {root:?}\nstate = {state:?}\n{plugins}\
             [grpc]\n  address = {address:?}\n\
             [ttrpc]\n  address = {ttrpc:?}\n\
             [debug]\n  address = {debug:?}\n  level = \"info\"\n",
            root = dir.join("root"),
            state = dir.join("state"),
            address = dir.join(SOCKET),
            ttrpc = dir.join("containerd.sock.ttrpc"),
            debug = dir.join("debug.sock"),
        )
    }

    /// Starts containerd on `config` (made by [`PrivateContainerd::config`] for `dir`, maybe
    /// changed since) with `bin` first on its PATH, and waits until it answers.
    pub fn start_in(dir: tempfile::TempDir, config: PathBuf, bin: PathBuf) -> PrivateContainerd {
        let address = dir.path().join(SOCKET);
        let child = spawn_daemon(dir.path(), &config, &bin);
        let mut ctrd = PrivateContainerd {
            child: Running::new(child, STOP_GRACE),
            dir,
            address,
            config,
            bin,
        };
        ctrd.wait_answering();
        ctrd
    }

    /// Kills containerd with SIGKILL — its shims, detached, keep running their containers, as
    /// on a node whose containerd crashed or was upgraded — and starts it again on the same
    /// config and state, waiting until it answers. Returns how long it did not answer.
    pub fn kill_and_restart(&mut self) -> Duration {
        let down = Instant::now();
        self.child.signal(Signal::SIGKILL);
        let _ = self.child.child_mut().wait();
        let child = spawn_daemon(self.dir.path(), &self.config, &self.bin);
        self.child = Running::new(child, STOP_GRACE);
        self.wait_answering();
        down.elapsed()
    }

    /// Waits (30 s at most) until `ctr version` answers; panics with containerd's log if it
    /// exits or does not answer.
    fn wait_answering(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = self
                .ctr()
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            if let Ok(Some(status)) = self.child.child_mut().try_wait() {
                panic!("containerd exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "containerd did not answer within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A `ctr` command against this containerd.
    pub fn ctr(&self) -> Command {
        let mut cmd = Command::new("ctr");
        cmd.arg("--address").arg(&self.address);
        cmd
    }

    /// Runs `ctr` with `args` and returns its output; panics if it cannot start.
    pub fn ctr_output(&self, args: &[&str]) -> std::process::Output {
        self.ctr().args(args).output().expect("ctr runs")
    }

    /// As [`PrivateContainerd::ctr_output`], in containerd namespace `namespace`.
    fn ctr_in(&self, namespace: &str, args: &[&str]) -> std::process::Output {
        self.ctr_output(&[&["--namespace", namespace], args].concat())
    }

    /// The gRPC socket (containerd's API, and CRI's when it is on).
    pub fn address(&self) -> &Path {
        &self.address
    }

    /// Imports an OCI image-layout tarball; panics with ctr's output on failure.
    pub fn import(&self, tarball: &Path) {
        self.import_into("default", tarball);
    }

    /// Imports an OCI image-layout tarball into containerd `namespace` (CRI's is `k8s.io`).
    pub fn import_into(&self, namespace: &str, tarball: &Path) {
        let tarball = tarball.to_str().expect("a UTF-8 path");
        let out = self.ctr_in(namespace, &["image", "import", "--all-platforms", tarball]);
        assert!(
            out.status.success(),
            "ctr image import {tarball} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// containerd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    /// containerd's PID.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }
}

/// The CRI plugin's settings for a node test.
#[derive(Debug, Clone)]
pub struct CriPlugin {
    /// The pod sandbox (pause) image, imported locally before any pod runs.
    pub sandbox_image: String,
    /// Whether the config names the `heart` runtime (off: a node the installer configures).
    pub heart_runtime: bool,
}

impl CriPlugin {
    /// The plugin's section of containerd's config; `dir` is containerd's temp dir.
    fn config(&self, dir: &Path) -> String {
        let cri = "[plugins.\"io.containerd.grpc.v1.cri\"]";
        format!(
            "{cri}\n\
             \x20 sandbox_image = {image:?}\n\
             \x20 # These machines refuse the pause container's oom_score_adj of -998 otherwise.\n\
             \x20 restrict_oom_score_adj = true\n\
             \x20 stream_server_address = \"127.0.0.1\"\n\
             \x20 stream_server_port = \"0\"\n\
             \x20 [plugins.\"io.containerd.grpc.v1.cri\".cni]\n\
             \x20   bin_dir = {cni_bin:?}\n\
             \x20   conf_dir = {cni_conf:?}\n\
             \x20 [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n\
             \x20   snapshotter = \"overlayfs\"\n\
             \x20   [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n\
             \x20     runtime_type = \"io.containerd.runc.v2\"\n{heart}",
            image = self.sandbox_image,
            cni_bin = dir.join("cni/bin"),
            cni_conf = dir.join("cni/conf"),
            heart = if self.heart_runtime {
                format!(
                    "\x20   [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.heart]\n\
                     \x20     runtime_type = {RUNTIME:?}\n"
                )
            } else {
                String::new()
            },
        )
    }
}

impl PrivateContainerd {
    /// Kills and deletes every task and container, so no shim or container outlives the test
    /// (shims are detached from containerd and would keep running).
    fn remove_everything(&self) {
        // ctr's own namespace and CRI's.
        for namespace in ["default", "k8s.io"] {
            let list = |args: &[&str]| -> Vec<String> {
                let out = self.ctr_in(namespace, args);
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            };
            for id in list(&["task", "ls", "-q"]) {
                let _ = self.ctr_in(namespace, &["task", "kill", "-s", "SIGKILL", &id]);
                for _ in 0..50 {
                    if self
                        .ctr_in(namespace, &["task", "delete", &id])
                        .status
                        .success()
                    {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            for id in list(&["container", "ls", "-q"]) {
                let _ = self.ctr_in(namespace, &["container", "rm", &id]);
            }
        }
    }

    /// The socket a shim serves task `id` of `namespace` on (containerd's formula: the SHA-256
    /// of `<grpc address>/<namespace>/<id>` under `/run/containerd/s`). A pod's containers
    /// share their sandbox's shim, so for CRI `id` is the sandbox's.
    pub fn shim_socket(&self, namespace: &str, id: &str) -> PathBuf {
        use sha2::Digest as _;
        let key = self.address.join(namespace).join(id);
        let digest = sha2::Sha256::digest(key.as_os_str().as_encoded_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Path::new("/run/containerd/s").join(hex)
    }

    /// Mount points under this containerd's directories (snapshots, sandbox shm, rootfs).
    pub fn mounts(&self) -> Vec<String> {
        let dir = self.dir.path().display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split(' ').nth(4))
            .filter(|point| point.starts_with(&dir))
            .map(str::to_owned)
            .collect()
    }

    /// Processes started for this containerd that are still alive (shims), by their
    /// command line naming its socket.
    pub fn leftover_pids(&self) -> Vec<u32> {
        let needle = self.address.display().to_string();
        crate::process::pids()
            .into_iter()
            .filter(|&pid| crate::process::command_line(pid).contains(&needle))
            .collect()
    }
}

/// Starts containerd on `config` with `bin` first on its PATH, its output appended to
/// `dir/containerd.log`.
fn spawn_daemon(dir: &Path, config: &Path, bin: &Path) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("containerd.log"))
        .expect("containerd's log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("containerd")
        .arg("--config")
        .arg(config)
        .env("PATH", path)
        // Its shims' compiled-code cache: this containerd's own, starting empty.
        .env("HEART_NODE_CACHE_DIR", dir.join(NODE_CACHE))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("containerd could not start: {e} (install Debian's `containerd`)")
        })
}

/// A container id unique to this test process (the shim keeps container state in a directory
/// shared by every containerd on the machine).
pub fn unique_id(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

impl Drop for PrivateContainerd {
    fn drop(&mut self) {
        self.remove_everything();
        for pid in self.leftover_pids() {
            // A killed shim leaves its socket behind: remove it too.
            let args = crate::process::command_line(pid);
            let words: Vec<&str> = args.split_whitespace().collect();
            let flag = |name: &str| {
                let at = words.iter().position(|w| *w == name)?;
                words.get(at + 1).copied()
            };
            crate::child::send(pid, Signal::SIGKILL);
            if let (Some(namespace), Some(id)) = (flag("-namespace"), flag("-id")) {
                let _ = std::fs::remove_file(self.shim_socket(namespace, id));
            }
        }
        self.child.stop();
        // Deepest first, lazily: a mount left by a failed test must not outlive it (nor keep
        // its temp dir from being removed).
        for point in self.mounts().iter().rev() {
            let _ = Command::new("umount").arg("-l").arg(point).status();
        }
    }
}

/// A minimal Linux rootfs in `dir` holding `binary` (an ELF) and the shared libraries `ldd`
/// lists for it, at the same paths: enough to run it as an ordinary Linux container.
pub fn elf_rootfs(dir: &Path, binary: &Path) {
    let mut files = vec![binary.to_owned()];
    let ldd = Command::new("ldd").arg(binary).output().expect("ldd runs");
    for word in String::from_utf8_lossy(&ldd.stdout).split_whitespace() {
        if word.starts_with('/') {
            files.push(PathBuf::from(word));
        }
    }
    for file in files {
        let target = dir.join(file.strip_prefix("/").expect("absolute"));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&file, &target).expect("copy into rootfs");
    }
}

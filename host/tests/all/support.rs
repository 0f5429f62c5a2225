//! Shared helpers for heart-host's integration tests: start the real `heart-host` binary with a
//! real built component on a free 127.0.0.1 port, talk HTTP to it, stop it by its PID.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use heart_host::manifest::Manifest;
pub use heart_testing::{Running, metric, root, wait_until};

/// The component builds under test, by name, as produced by `cargo xtask build`.
pub const BUILDS: [(&str, &str); 2] = [
    ("wasi-0.2", "heart_http.wasm"),
    ("wasi-0.3", "heart_http_p3.wasm"),
];

/// The plain-WASI env-config variants of [`BUILDS`], which read `HEART_*` from their WASI
/// environment instead of `wasi:config/store`.
pub const ENV_CONFIG_BUILDS: [(&str, &str); 2] = [
    ("env-config", "heart_http_env.wasm"),
    ("env-config-0.3", "heart_http_p3_env.wasm"),
];

/// Every build the HTTP suite serves: [`BUILDS`] and [`ENV_CONFIG_BUILDS`].
pub const SERVED_BUILDS: [(&str, &str); 4] = [
    BUILDS[0],
    BUILDS[1],
    ENV_CONFIG_BUILDS[0],
    ENV_CONFIG_BUILDS[1],
];

/// Path of a built component in `dist/`; fails with a hint when it was not built.
pub fn component(file: &str) -> PathBuf {
    let path = root().join("dist").join(file);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask build` first",
        path.display()
    );
    path
}

/// A `spin.toml` in `dir`: the repository's manifest with its component source pointed at `wasm`.
pub fn manifest_for(dir: &Path, wasm: &Path) -> PathBuf {
    manifest_with_environment(dir, wasm, &[])
}

/// [`manifest_for`] with `environment` as the component's WASI environment.
pub fn manifest_with_environment(dir: &Path, wasm: &Path, environment: &[(&str, &str)]) -> PathBuf {
    let mut manifest = Manifest::load(&root().join("spin.toml"))
        .expect("the root spin.toml")
        .serving(wasm);
    for component in manifest.component.values_mut() {
        for (k, v) in environment {
            component
                .environment
                .insert((*k).to_owned(), (*v).to_owned());
        }
    }
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest.to_toml()).expect("writing test manifest");
    path
}

/// A running heart-host process, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Host {
    child: Running,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stderr: mpsc::Receiver<String>,
    _dir: Option<tempfile::TempDir>,
}

/// What a host start produced.
pub struct Options<'a> {
    /// Component file in `dist/`.
    pub wasm: &'a str,
    /// Extra environment variables.
    pub env: &'a [(&'a str, &'a str)],
    /// Extra arguments after `up`.
    pub args: &'a [&'a str],
    /// The component's WASI environment (`[component.heart.environment]`).
    pub component_env: &'a [(&'a str, &'a str)],
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            wasm: "heart_http.wasm",
            env: &[],
            args: &[],
            component_env: &[],
        }
    }
}

/// The host command for `manifest`, listening on an OS-chosen port.
pub fn host_command(manifest: &Path, options: &Options<'_>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heart-host"));
    cmd.args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(manifest)
        .args(options.args);
    if !options.args.contains(&"--cache-dir") {
        // Hermetic: never read or write the user's compile cache.
        cmd.arg("--no-cache");
    }
    cmd.env_remove("RUST_LOG");
    // Hermetic: the pod name the guest sees is the test's to give.
    cmd.env_remove("POD_NAME");
    // Hermetic: traces go where the test says, if anywhere.
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") {
            cmd.env_remove(name);
        }
    }
    for (k, v) in options.env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a host that must refuse to start; returns its stderr.
pub fn start_failure(options: &Options<'_>) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = manifest_for(dir.path(), &component(options.wasm));
    let output = host_command(&manifest, options)
        .output()
        .expect("heart-host runs");
    assert!(
        !output.status.success(),
        "heart-host started although it should not"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

impl Host {
    /// Starts a host serving `options.wasm` with the repository's spin.toml.
    pub fn start(options: Options<'_>) -> Host {
        let dir = tempfile::tempdir().expect("temp dir");
        let manifest =
            manifest_with_environment(dir.path(), &component(options.wasm), options.component_env);
        let mut host = Self::spawn(host_command(&manifest, &options));
        host._dir = Some(dir);
        host
    }

    /// Spawns `cmd` and waits (up to 120 s) for its "listening on" line.
    pub fn spawn(mut cmd: Command) -> Host {
        // Stopped by its PID (SIGTERM, then SIGKILL after 2 s) however the test ends.
        let mut child = Running::new(cmd.spawn().expect("starting heart-host"), STOP_GRACE);
        let stdout = child.child_mut().stdout.take().expect("piped stdout");
        let stderr = child.child_mut().stderr.take().expect("piped stderr");
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if err_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            if let Some(base) = heart_testing::read_listening_url(&mut stdout, |_| ()) {
                let _ = tx.send(base);
            }
            // Drained to the end, so the host never blocks on a full pipe.
            for _ in stdout.lines().map_while(Result::ok) {}
        });
        let base = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => base,
            Err(_) => {
                child.stop();
                let log: Vec<String> = err_rx.try_iter().collect();
                panic!("heart-host did not start listening:\n{}", log.join("\n"));
            }
        };
        Host {
            child,
            base,
            stderr: err_rx,
            _dir: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// `GET path` with optional `Accept`.
    pub fn get(&self, path: &str, accept: Option<&str>) -> Reply {
        let mut request = agent().get(&format!("{}{path}", self.base));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        Reply::from(request.call().expect("request completes"))
    }

    /// `GET path` with the given header field lines, in order (a name may repeat).
    pub fn get_with_headers(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = http::Request::builder().uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Vec::new()).expect("valid request");
        Reply::from(agent().run(request).expect("request completes"))
    }

    /// A request with any method and an optional body.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Reply {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .expect("valid request");
        Reply::from(agent().run(request).expect("request completes"))
    }

    /// Stderr lines read until one contains `needle` (or 10 s pass); the lines read so far.
    pub fn stderr_until(&self, needle: &str) -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut lines = Vec::new();
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    lines.push(line);
                    if found {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        lines
    }

    /// Sends SIGTERM: the host begins its graceful shutdown.
    pub fn sigterm(&self) {
        self.child.signal(heart_testing::child::Signal::SIGTERM);
    }

    /// Sends SIGTERM and waits up to `timeout` for exit; returns the exit code.
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        self.child.terminate(timeout)?.code()
    }
}

/// How long a host gets to exit after SIGTERM when a test drops it.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Loads `base` from `threads` threads for as long as `during` runs: each thread requests
/// `paths` round-robin (starting at its own offset) on a keep-alive connection. Returns what
/// `during` returned, the failed requests (non-200 or transport errors, with their path) and
/// how many requests were made. The load stops even when `during` panics. It runs [`heavy`].
pub fn load_while<R>(
    base: &str,
    threads: usize,
    paths: &[&str],
    during: impl FnOnce() -> R,
) -> (R, Vec<String>, u32) {
    let _heavy = heavy();
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let load: Vec<_> = (0..threads)
            .map(|offset| {
                let stop = &stop;
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let (mut failures, mut requests) = (Vec::new(), 0u32);
                    while !stop.load(Ordering::Relaxed) {
                        let path = paths[(requests as usize + offset) % paths.len()];
                        match agent.get(format!("{base}{path}")).call() {
                            Ok(r) if r.status() == 200 => {}
                            Ok(r) => failures.push(format!("{path}: {}", r.status())),
                            Err(e) => failures.push(format!("{path}: {e}")),
                        }
                        requests += 1;
                    }
                    (failures, requests)
                })
            })
            .collect();
        let result = {
            let _stop = StopOnDrop(&stop);
            during()
        };
        let (mut failures, mut requests) = (Vec::new(), 0);
        for thread in load {
            let (f, n) = thread.join().expect("load thread");
            failures.extend(f);
            requests += n;
        }
        (result, failures, requests)
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A finished response.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl From<http::Response<ureq::Body>> for Reply {
    fn from(mut response: http::Response<ureq::Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .expect("reading the body");
        Self {
            status,
            headers,
            body,
        }
    }
}

impl Reply {
    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("JSON body ({e}): {}", self.text()))
    }
}

/// Held by the tests that load a host hard or measure rates and latencies (load generators,
/// 1,000 streams, slowloris): they run one at a time, so one's load never skews another's
/// figures, while the light tests run beside them.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends raw `request` bytes on a new connection and reads until the host closes it (or resets
/// it): everything the host sent, as text. Panics when the host neither answers nor closes the
/// connection within 20 s.
pub fn exchange(host: &Host, request: &[u8]) -> String {
    let address = host.base.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).expect("connecting");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a read timeout");
    // The host may answer and close before it has read everything (e.g. a huge header).
    let _ = std::io::Write::write_all(&mut socket, request);
    let mut answer = Vec::new();
    let read = std::io::Read::read_to_end(&mut socket, &mut answer);
    let reset = read
        .as_ref()
        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset);
    assert!(
        read.is_ok() || reset || !answer.is_empty(),
        "the host neither answered nor closed the connection: {read:?}"
    );
    String::from_utf8_lossy(&answer).into_owned()
}

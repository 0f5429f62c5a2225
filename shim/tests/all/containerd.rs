//! End to end under real containerd: a private Debian containerd runs the OCI artifact from
//! `cargo xtask oci` with the heart shim — the HTTP app (formats, metrics, SIGTERM), a task
//! killed and restarted while a client polls, the Wasm validator against good and bad config,
//! and ordinary Linux (ELF) containers — one from a spec with no `capabilities` object.
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heart_testing::containerd::{PrivateContainerd, RUNTIME, elf_rootfs, unique_id};
use heart_testing::process::free_port;

const IMAGE: &str = "localhost/heart-display:0.1.0";

fn start() -> PrivateContainerd {
    let tarball = heart_testing::root().join("dist/oci/heart-display.oci.tar");
    assert!(
        tarball.is_file(),
        "{} is missing: run `cargo xtask oci`",
        tarball.display()
    );
    let ctrd = PrivateContainerd::start(env!("CARGO_BIN_EXE_containerd-shim-heart-v1").as_ref());
    ctrd.import(&tarball);
    ctrd
}

fn get(url: &str) -> Option<(u16, String, Vec<u8>)> {
    let mut response = ureq::get(url).call().ok()?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_vec().ok()?;
    Some((status, content_type, body))
}

/// Header `name` of `GET url`.
fn header(url: &str, name: &str) -> Option<String> {
    let response = ureq::get(url).call().ok()?;
    let value = response.headers().get(name)?.to_str().ok()?;
    Some(value.to_owned())
}

#[test]
fn the_http_app_serves_every_format_and_metrics_then_stops_on_sigterm() {
    let ctrd = start();
    let port = free_port();
    let id = unique_id("heart-web");
    let mut app = ctrd
        .ctr()
        // Read-only root and the default seccomp profile, as the chart's securityContext.
        .args(["run", "--rm", "--read-only", "--seccomp", "--net-host"])
        .args(["--runtime", RUNTIME])
        .args(["--env", &format!("PORT={port}")])
        .args([
            "--env",
            "POD_NAME=heart-display-0",
            "--env",
            "POD_NAMESPACE=e2e",
        ])
        .args(["--env", "HEART_SHUTDOWN_GRACE_SECS=5"])
        .args([IMAGE, &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ctr run starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&ctrd, &base, &mut || {
        let status = app.try_wait().ok().flatten()?;
        let mut stderr = String::new();
        if let Some(mut pipe) = app.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        Some(format!("{status}\n{stderr}"))
    });

    // Each format's own marker: the SVG element, a JSON frame field, the PNG signature, the
    // text frame's status line.
    let cases = [
        ("svg", "image/svg+xml", b"<svg".as_slice()),
        ("json", "application/json", b"\"bpm\": ".as_slice()),
        ("png", "image/png", b"\x89PNG\r\n".as_slice()),
        (
            "txt",
            "text/plain; charset=utf-8",
            b" bpm  love ".as_slice(),
        ),
    ];
    for (format, content_type, marker) in cases {
        let (status, ct, body) =
            get(&format!("{base}/api/heart?format={format}")).expect("the app answers");
        assert_eq!(status, 200, "{format}");
        assert_eq!(ct, content_type, "{format}");
        assert!(
            body.windows(marker.len()).any(|w| w == marker),
            "{format}: no {marker:?} in {:?}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        );
    }
    // The shim serves with heart-host's server: each answer says what it cost.
    let timing = header(&format!("{base}/api/symbol"), "server-timing").expect("Server-Timing");
    assert!(
        timing.contains("instance;desc=\"fresh\"") && timing.contains("guest;dur="),
        "{timing}"
    );
    // The frames carry the instance's own figures, its pod named by the container's env.
    let (_, _, svg) = get(&format!("{base}/heart.svg")).expect("a frame");
    let svg = String::from_utf8_lossy(&svg);
    for figure in [
        "requests=\"1\"",
        "config-generation=\"1\"",
        "pod=\"heart-display-0\"",
    ] {
        assert!(svg.contains(figure), "no {figure} in {svg}");
    }
    // Compression and HTTP/2 (h2c) are the host's server's, so the shim serves them too.
    let coded = ureq::get(&format!("{base}/heart.svg"))
        .header("accept-encoding", "gzip")
        .call()
        .expect("a coded frame");
    assert_eq!(
        coded
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let h2 = std::process::Command::new("curl")
        .args([
            "-sS",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
        ])
        .arg(format!("{base}/heart.svg"))
        .output()
        .expect("curl runs");
    assert_eq!(
        String::from_utf8_lossy(&h2.stdout),
        "2",
        "HTTP/2 through the shim"
    );
    // The live stream runs through the shim too: frames, then its closing frame.
    let (status, ct, live) =
        get(&format!("{base}/live?seconds=1&fps=5&ascii=1")).expect("a stream");
    let live = String::from_utf8_lossy(&live);
    assert_eq!((status, ct.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(live.matches("\x1b[H").count() >= 4, "frames: {live:?}");
    assert!(live.contains("the stream ran its 1 s"), "{live:?}");
    let (_, _, metrics) = get(&format!("{base}/metrics")).expect("metrics");
    let metrics = String::from_utf8_lossy(&metrics);
    let beats = heart_testing::metric(
        &metrics,
        "heart_display_beats_total",
        &[("pod_name", "heart-display-0"), ("namespace", "e2e")],
    );
    assert!(
        beats.is_some_and(|b| b >= 4.0),
        "beats with identity: {beats:?}"
    );

    let kill = ctrd.ctr_output(&["task", "kill", &id]);
    assert!(
        kill.status.success(),
        "{}",
        String::from_utf8_lossy(&kill.stderr)
    );
    let killed = Instant::now();
    let status = loop {
        if let Some(status) = app.try_wait().expect("wait") {
            break status;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(15),
            "the app did not stop within its 5 s grace period (+10 s slack) after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = app.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        status.success(),
        "clean exit after SIGTERM: {status}\n{stderr}"
    );
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
}

/// Waits up to 120 s for `base`'s `/readyz` to answer 200; `exited` says whether (and how) the
/// app has already ended, which fails the wait at once.
fn wait_ready(ctrd: &PrivateContainerd, base: &str, exited: &mut dyn FnMut() -> Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while get(&format!("{base}/readyz")).is_none_or(|(s, ..)| s != 200) {
        if let Some(how) = exited() {
            panic!(
                "the app exited before it was ready: {how}\ncontainerd:\n{}",
                ctrd.log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "not ready in 120 s:\n{}",
            ctrd.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The task's PID and status (`RUNNING`, `STOPPED`, …) from `ctr task ls`, if it exists.
fn task(ctrd: &PrivateContainerd, id: &str) -> Option<(u32, String)> {
    let out = ctrd.ctr_output(&["task", "ls"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            if words.next()? != id {
                return None;
            }
            let pid = words.next()?.parse().ok()?;
            Some((pid, words.next()?.to_owned()))
        })
}

fn ctr_ok(ctrd: &PrivateContainerd, args: &[&str]) {
    let out = ctrd.ctr_output(args);
    assert!(
        out.status.success(),
        "ctr {args:?}: {}{}",
        String::from_utf8_lossy(&out.stderr),
        ctrd.log()
    );
}

#[test]
fn a_killed_task_restarts_and_serves_again_while_a_client_polls() {
    let ctrd = start();
    let port = free_port();
    let id = unique_id("heart-restart");
    ctr_ok(
        &ctrd,
        &[
            "run",
            "-d",
            "--null-io",
            "--read-only",
            "--seccomp",
            "--net-host",
            "--runtime",
            RUNTIME,
            "--env",
            &format!("PORT={port}"),
            IMAGE,
            &id,
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&ctrd, &base, &mut || None);
    let (first_pid, _) = task(&ctrd, &id).expect("the task is listed");

    // A client polls the heart every 50 ms throughout, recording when each answer came.
    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
    let poller = {
        let (stop, log) = (Arc::clone(&stop), Arc::clone(&log));
        let url = format!("{base}/api/heart?format=json");
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let ok = get(&url).is_some_and(|(status, ..)| status == 200);
                log.lock().expect("poll log").push((Instant::now(), ok));
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let polls = |counted: &dyn Fn(&(Instant, bool)) -> bool| {
        log.lock()
            .expect("poll log")
            .iter()
            .filter(|p| counted(p))
            .count()
    };
    heart_testing::wait_until("three polls served", Duration::from_secs(15), || {
        polls(&|(_, ok)| *ok) >= 3
    });

    // SIGKILL, as when a container is OOM-killed or crashes: no graceful shutdown.
    ctr_ok(&ctrd, &["task", "kill", "-s", "SIGKILL", &id]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while task(&ctrd, &id).is_some_and(|(_, status)| status != "STOPPED") {
        assert!(
            Instant::now() < deadline,
            "the task did not stop after SIGKILL"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped = Instant::now();
    // Restart it as the kubelet would: the same container, a new task.
    ctr_ok(&ctrd, &["task", "delete", &id]);
    heart_testing::wait_until(
        "a poll failed while the task was down",
        Duration::from_secs(15),
        || polls(&|(at, ok)| *at > stopped && !*ok) >= 1,
    );
    let restart = Instant::now();
    ctr_ok(&ctrd, &["task", "start", "-d", "--null-io", &id]);
    wait_ready(&ctrd, &base, &mut || None);
    heart_testing::wait_until(
        "three polls served after the restart",
        Duration::from_secs(15),
        || polls(&|(at, ok)| *at > restart && *ok) >= 3,
    );
    stop.store(true, Ordering::SeqCst);
    poller.join().expect("the poller ends");
    let answers = log.lock().expect("poll log").clone();

    let (second_pid, status) = task(&ctrd, &id).expect("the restarted task is listed");
    assert_eq!(status, "RUNNING");
    assert_ne!(second_pid, first_pid, "a new task process");
    let ok_before = answers
        .iter()
        .filter(|(at, ok)| *at < stopped && *ok)
        .count();
    let failed_while_down = answers
        .iter()
        .filter(|(at, ok)| *at > stopped && *at < restart && !*ok)
        .count();
    let after: Vec<bool> = answers
        .iter()
        .filter(|(at, _)| *at > restart)
        .map(|(_, ok)| *ok)
        .collect();
    assert!(
        ok_before >= 3,
        "the client was served before the kill: {ok_before}"
    );
    assert!(
        failed_while_down >= 1,
        "the killed task really stopped serving (no failed poll while it was down)"
    );
    let first_ok = after
        .iter()
        .position(|ok| *ok)
        .expect("the client is served again");
    assert!(
        after[first_ok..].iter().all(|ok| *ok),
        "once back, every poll succeeds: {after:?}"
    );
    assert!(
        after[first_ok..].len() >= 3,
        "several polls after the restart: {after:?}"
    );
}

fn validate(ctrd: &PrivateContainerd, id: &str, dir: &std::path::Path) -> std::process::Output {
    let mount = format!(
        "type=bind,src={},dst=/config,options=rbind:ro",
        dir.display()
    );
    ctrd.ctr()
        .args([
            "run",
            "--rm",
            "--read-only",
            "--seccomp",
            "--runtime",
            RUNTIME,
        ])
        .args(["--mount", &mount])
        .args([IMAGE, &unique_id(id), "/heart_validate.wasm", "/config"])
        .output()
        .expect("ctr run")
}

#[test]
fn the_wasm_validator_passes_good_config_and_names_bad_values() {
    let ctrd = start();
    let good = tempfile::tempdir().expect("dir");
    std::fs::write(good.path().join("love-level"), "9\n").expect("write");
    std::fs::write(good.path().join("color"), "hotpink").expect("write");
    let out = validate(&ctrd, "validate-good", good.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("config directory /config is valid: color=hotpink love_level=9"),
        "{stdout}"
    );

    let bad = tempfile::tempdir().expect("dir");
    std::fs::write(bad.path().join("love-level"), "11").expect("write");
    std::fs::write(bad.path().join("bpm"), "fast").expect("write");
    let out = validate(&ctrd, "validate-bad", bad.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`love-level`: love level `11` is out of range 1..=10"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`bpm`: bpm `fast` is not a whole number; expected 30..=220"),
        "{stderr}"
    );
    assert!(stderr.contains("validation found 2 problem(s)"), "{stderr}");
}

#[test]
fn an_elf_container_runs_as_an_ordinary_linux_container() {
    let ctrd = start();
    let rootfs = tempfile::tempdir().expect("dir");
    let echo = std::fs::canonicalize("/bin/echo").expect("/bin/echo exists");
    elf_rootfs(rootfs.path(), &echo);
    let out = ctrd
        .ctr()
        .args(["run", "--rm", "--runtime", RUNTIME, "--rootfs"])
        .arg(rootfs.path())
        .arg(unique_id("elf"))
        .arg(&echo)
        .arg("hello from a linux container")
        .output()
        .expect("ctr run");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        ctrd.log()
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from a linux container"
    );
}

/// A runtime spec with no `capabilities` object at all: runc gives the process every set empty,
/// and so must the shim (libcontainer 0.6.0 skipped the drop, leaving root's full set).
#[test]
fn a_spec_without_capabilities_runs_with_every_set_empty() {
    let ctrd = start();
    let rootfs = tempfile::tempdir().expect("dir");
    let grep = std::fs::canonicalize("/bin/grep").expect("/bin/grep exists");
    elf_rootfs(rootfs.path(), &grep);
    for dir in ["proc", "dev"] {
        std::fs::create_dir_all(rootfs.path().join(dir)).expect("mkdir");
    }
    let spec = serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": [grep, "^Cap", "/proc/self/status"],
            "env": ["PATH=/bin:/usr/bin"],
            "cwd": "/"
        },
        "root": {"path": rootfs.path()},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]}
    });
    let config = rootfs.path().with_extension("json");
    std::fs::write(&config, spec.to_string()).expect("write spec");
    let out = ctrd
        .ctr()
        .args(["run", "--rm", "--runtime", RUNTIME, "--config"])
        .arg(&config)
        .arg(unique_id("no-caps"))
        .output()
        .expect("ctr run");
    let _ = std::fs::remove_file(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}{}",
        String::from_utf8_lossy(&out.stderr),
        ctrd.log()
    );
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(set))
            .unwrap_or_else(|| panic!("no {set} in {stdout}"));
        assert!(line.ends_with("0000000000000000"), "{line} (all: {stdout})");
    }
}

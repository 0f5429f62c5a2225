//! A container's Wasm run the way the containerd shim runs it ([`heart_host::container::run`]),
//! in-process with the real components: the HTTP app served, the validator command's exit
//! codes, refusals with reasons, bad settings named.

use std::time::Duration;

use crate::support;
use crate::support::component;
use heart_host::container::{self, ContainerError, ContainerProcess};

pub fn process(name: &str, args: &[&str], env: &[&str]) -> ContainerProcess {
    ContainerProcess {
        name: name.to_owned(),
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        env: env.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs a container's `wasm` to its end (no shutdown signal: a server would run forever).
pub fn run_to_end(wasm: &[u8], process: &ContainerProcess) -> Result<i32, ContainerError> {
    runtime().block_on(container::run(
        wasm,
        process,
        std::future::pending(),
        |_| {},
    ))
}

fn validate(dir: &std::path::Path) -> i32 {
    let wasm = std::fs::read(component("heart_validate.wasm")).expect("validator");
    let dir = dir.to_str().expect("utf-8 path");
    let process = process("heart_validate", &["/heart_validate.wasm", dir], &[]);
    run_to_end(&wasm, &process).expect("the command runs")
}

#[test]
fn the_validator_command_exits_0_on_good_config_and_1_on_bad() {
    let good = tempfile::tempdir().expect("dir");
    std::fs::write(good.path().join("love-level"), "9\n").expect("write");
    std::fs::write(good.path().join("bpm"), "80").expect("write");
    assert_eq!(validate(good.path()), 0);

    let bad = tempfile::tempdir().expect("dir");
    std::fs::write(bad.path().join("love-level"), "11").expect("write");
    assert_eq!(validate(bad.path()), 1);

    assert_eq!(validate(&good.path().join("missing")), 1);
}

#[test]
fn the_http_component_is_served_with_host_routes_until_shutdown() {
    // WASI 0.2 plain-WASI build (settings as WASI env) and WASI 0.3 build (settings through
    // wasi:config from SPIN_VARIABLE_*).
    for (file, setting) in [
        ("heart_http_env.wasm", "HEART_LOVE_LEVEL=9"),
        ("heart_http_p3.wasm", "SPIN_VARIABLE_LOVE_LEVEL=9"),
    ] {
        serve_and_check(file, setting);
    }
}

/// A container's HTTP component served in-process as the shim serves it, until dropped or
/// [`ServedContainer::stop`]ped.
pub struct ServedContainer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<Result<i32, ContainerError>>>,
}

impl ServedContainer {
    /// Serves `file` (in `dist/`) with the container environment `env` (`PORT=0` added).
    pub fn start(file: &str, env: &[&str]) -> Self {
        let wasm = std::fs::read(component(file)).expect("component");
        let mut env = env.to_vec();
        env.push("PORT=0");
        let process = process(file, &[&format!("/{file}")], &env);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        let server = std::thread::spawn(move || {
            runtime().block_on(container::run(
                &wasm,
                &process,
                async {
                    let _ = stopped.await;
                },
                move |address| tx.send(address.port()).expect("report port"),
            ))
        });
        let port = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server listens");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// The body of `GET path`.
    pub fn text(&self, path: &str) -> String {
        ureq::get(format!("{}{path}", self.base))
            .call()
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .body_mut()
            .read_to_string()
            .expect("text")
    }

    /// Shuts the server down; its exit code.
    pub fn stop(mut self) -> i32 {
        self.stop.take().map(|stop| stop.send(()));
        let server = self.server.take().expect("running");
        server.join().expect("server thread").expect("clean stop")
    }
}

impl Drop for ServedContainer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

fn serve_and_check(file: &str, setting: &str) {
    let served = ServedContainer::start(file, &[setting, "POD_NAME=heart-test-0"]);
    let config: serde_json::Value =
        serde_json::from_str(&served.text("/api/config")).expect("json");
    assert_eq!(
        config["love_level"], 9,
        "{file}: the container env reaches the guest"
    );
    let svg = served.text("/api/heart?format=svg");
    assert!(svg.starts_with("<svg"), "{file}: {svg}");
    assert!(
        served
            .text("/metrics")
            .contains("pod_name=\"heart-test-0\""),
        "{file}: identity from the container env"
    );
    assert_eq!(served.stop(), 0, "{file}");
}

#[test]
fn other_wasm_is_refused_with_the_reason() {
    let core_module = b"\0asm\x01\0\0\0";
    let err = run_to_end(core_module, &process("m", &["/m.wasm"], &[])).expect_err("refused");
    assert!(
        err.to_string()
            .starts_with("`m` cannot run under heart: a core Wasm module, not a component"),
        "{err}"
    );

    // An empty component: exports nothing.
    let empty_component = b"\0asm\x0d\0\x01\0";
    let err = run_to_end(empty_component, &process("c", &["/c.wasm"], &[])).expect_err("refused");
    assert!(
        err.to_string()
            .contains("a component exporting neither a WASI HTTP handler"),
        "{err}"
    );

    let err = run_to_end(b"#!/bin/sh\n", &process("s", &["/s"], &[])).expect_err("refused");
    assert!(err.to_string().contains("not a valid Wasm binary"), "{err}");
}

#[test]
fn a_bad_setting_is_named_with_what_is_accepted() {
    let wasm = std::fs::read(component("heart_http.wasm")).expect("component");
    let err = run_to_end(
        &wasm,
        &process("heart_http", &["/heart_http.wasm"], &["PORT=eighty"]),
    )
    .expect_err("refused");
    assert!(matches!(err, ContainerError::Setting(_)));
    assert_eq!(
        err.to_string(),
        "setting PORT `eighty` is invalid: expected a whole number in 0..=65535"
    );
}

#[test]
fn the_container_and_the_cli_reject_a_bad_setting_with_the_same_message() {
    let wasm = std::fs::read(component("heart_http.wasm")).expect("component");
    for (variable, flag, value) in [
        ("HEART_MEMORY_LIMIT_MB", "--memory-limit-mb", "0"),
        ("HEART_MEMORY_LIMIT_MB", "--memory-limit-mb", "5000"),
        ("HEART_INSTANCE_REUSE", "--instance-reuse", "many"),
    ] {
        let setting = format!("{variable}={value}");
        let err = run_to_end(
            &wasm,
            &process("heart_http", &["/heart_http.wasm"], &[setting.as_str()]),
        )
        .expect_err("refused");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("setting {variable} ({flag}) `{value}` is invalid")),
            "{message}"
        );
        let by_flag = support::start_failure(&support::Options {
            args: &[flag, value],
            ..support::Options::default()
        });
        assert!(by_flag.contains(&message), "{flag} {value}: {by_flag}");
        let by_env = support::start_failure(&support::Options {
            env: &[(variable, value)],
            ..support::Options::default()
        });
        assert!(by_env.contains(&message), "{variable}={value}: {by_env}");
    }
}

#[test]
fn the_container_checks_the_apps_variables_at_start_as_the_cli_does() {
    let wasm = std::fs::read(component("heart_http.wasm")).expect("component");
    let err = run_to_end(
        &wasm,
        &process(
            "heart_http",
            &["/heart_http.wasm"],
            &["SPIN_VARIABLE_LOVE_LEVEL=11", "PORT=0"],
        ),
    )
    .expect_err("refused at start");
    assert!(
        err.to_string()
            .contains("love level `11` is out of range 1..=10"),
        "{err}"
    );
}

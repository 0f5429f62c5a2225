//! Pool sizing from the environment, and the fallback to on-demand allocation when the
//! process's virtual address space is too small for the pool (as Spin does): the host still
//! serves. The address-space limit is set with `ulimit -v` in a shell that then execs the host.

use std::process::{Command, Stdio};

use crate::support::{Host, component, manifest_for};

/// 16 GB of address space: enough for a one-instance pool, not for the default 256.
const ADDRESS_SPACE_KB: &str = "16000000";

fn limited_host(manifest: &std::path::Path, max_instances: &str) -> Host {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        &format!("ulimit -v {ADDRESS_SPACE_KB} && exec \"$@\""),
        "sh",
    ])
    .arg(env!("CARGO_BIN_EXE_heart-host"))
    .args(["up", "--listen", "127.0.0.1:0", "--no-cache", "--from"])
    .arg(manifest)
    .env("HEART_MAX_INSTANCES", max_instances)
    .env_remove("RUST_LOG")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    Host::spawn(cmd)
}

#[test]
fn pool_size_comes_from_the_environment_and_falls_back_when_address_space_is_short() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = manifest_for(dir.path(), &component("heart_http.wasm"));

    let small = limited_host(&manifest, "1");
    let log = small.stderr_until("engine ready").join("\n");
    assert!(log.contains("pooling allocator max_instances=1"), "{log}");
    assert_eq!(small.get("/heart.svg", None).status, 200);

    let large = limited_host(&manifest, "256");
    let log = large.stderr_until("engine ready").join("\n");
    assert!(
        log.contains("pooling allocator unavailable") && log.contains("on-demand allocator"),
        "{log}"
    );
    for _ in 0..3 {
        assert_eq!(large.get("/heart.svg", None).status, 200);
    }
}

//! Shim task churn and memory under a private containerd (needs root and Debian's containerd;
//! run `cargo xtask oci` first):
//!
//! `cargo bench -p containerd-shim-heart --bench churn [-- RUNS]`
//!
//! - churn: sequential `ctr run --rm` of the Wasm validator (start → exit) through the heart
//!   shim, against the same churn of an ordinary Linux container (`/bin/true` via the same
//!   shim) measured in the same run: tasks/s from the median task time, and the ratio;
//! - cold start: `ctr run -d` of the HTTP app → its first `200` (what a pod scaled from zero
//!   costs its first client), the first start and the median of the rest, each in a new
//!   container;
//! - memory: PSS and RSS of a running HTTP app's container process and of its shim process.
//!
//! Prints a table and one JSON line.

use std::path::Path;
use std::time::{Duration, Instant};

use heart_testing::containerd::{PrivateContainerd, RUNTIME, elf_rootfs, unique_id};
use heart_testing::process::{free_port, memory_kib as memory};

const IMAGE: &str = "localhost/heart-display:0.1.0";

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn churn(ctrd: &PrivateContainerd, runs: usize, args: &dyn Fn(&str) -> Vec<String>) -> Vec<f64> {
    (0..runs)
        .map(|i| {
            let id = unique_id(&format!("churn{i}"));
            let started = Instant::now();
            let out = ctrd.ctr().args(args(&id)).output().expect("ctr run");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            started.elapsed().as_secs_f64()
        })
        .collect()
}

/// Starts the HTTP app as container `id` on `port` (detached, host network) and returns how
/// long it took from `ctr run` to its first `200` for `/heart.svg`.
fn start_app(ctrd: &PrivateContainerd, id: &str, port: u16) -> Duration {
    let url = format!("http://127.0.0.1:{port}/heart.svg");
    let started = Instant::now();
    let out = ctrd
        .ctr()
        .args(["run", "-d", "--net-host", "--runtime", RUNTIME])
        .args(["--env", &format!("PORT={port}")])
        .args([IMAGE, id])
        .output()
        .expect("ctr run -d");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = started + Duration::from_secs(120);
    while !ureq::get(&url).call().is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the app did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    started.elapsed()
}

/// Stops and removes container `id`.
fn remove_app(ctrd: &PrivateContainerd, id: &str) {
    let _ = ctrd.ctr_output(&["task", "kill", "-s", "SIGKILL", id]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ctrd.ctr_output(&["task", "delete", id]).status.success() {
        assert!(Instant::now() < deadline, "task {id} did not go");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = ctrd.ctr_output(&["container", "rm", id]);
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let tarball = heart_testing::root().join("dist/oci/heart-display.oci.tar");
    let ctrd = PrivateContainerd::start(Path::new(env!("CARGO_BIN_EXE_containerd-shim-heart-v1")));
    ctrd.import(&tarball);

    let config = tempfile::tempdir().expect("dir");
    std::fs::write(config.path().join("love-level"), "9").expect("write");
    let mount = format!(
        "type=bind,src={},dst=/config,options=rbind:ro",
        config.path().display()
    );
    let rootfs = tempfile::tempdir().expect("dir");
    let truth = std::fs::canonicalize("/bin/true").expect("/bin/true");
    elf_rootfs(rootfs.path(), &truth);

    let wasm_args = |id: &str| -> Vec<String> {
        [
            "run",
            "--rm",
            "--runtime",
            RUNTIME,
            "--mount",
            &mount,
            IMAGE,
            id,
            "/heart_validate.wasm",
            "/config",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let root = rootfs.path().display().to_string();
    let truth = truth.display().to_string();
    let elf_args = |id: &str| -> Vec<String> {
        [
            "run",
            "--rm",
            "--runtime",
            RUNTIME,
            "--rootfs",
            &root,
            id,
            &truth,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    // Interleave the two in blocks so drift on a shared machine hits both.
    let (mut wasm, mut elf) = (Vec::new(), Vec::new());
    for _ in 0..runs.div_ceil(10) {
        wasm.extend(churn(&ctrd, 10, &wasm_args));
        elf.extend(churn(&ctrd, 10, &elf_args));
    }
    let wasm_median = median(wasm);
    let elf_median = median(elf);

    // Cold starts: a new container each time, as a pod scaled up from zero.
    let cold_runs = 10;
    let cold: Vec<f64> = (0..cold_runs)
        .map(|i| {
            let id = unique_id(&format!("cold{i}"));
            let took = start_app(&ctrd, &id, free_port());
            remove_app(&ctrd, &id);
            took.as_secs_f64()
        })
        .collect();
    let first_cold = cold[0];
    let cold_median = median(cold[1..].to_vec());

    // Memory of a running HTTP app.
    let port = free_port();
    let id = unique_id("churn-web");
    start_app(&ctrd, &id, port);
    let url = format!("http://127.0.0.1:{port}/api/heart?format=svg");
    for _ in 0..200 {
        ureq::get(&url).call().expect("request");
    }
    let tasks = String::from_utf8_lossy(&ctrd.ctr_output(&["task", "ls"]).stdout).into_owned();
    let app_pid: u32 = tasks
        .lines()
        .find(|l| l.starts_with(&id))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .expect("the app's pid");
    let (app_pss, app_rss) = memory(app_pid);
    let shim_pid = std::fs::read(format!("/proc/{app_pid}/stat"))
        .ok()
        .and_then(|s| {
            let s = String::from_utf8_lossy(&s).into_owned();
            s.rsplit(") ")
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse::<u32>()
                .ok()
        })
        .expect("the app's parent (the shim)");
    let (shim_pss, shim_rss) = memory(shim_pid);

    println!("heart shim churn ({runs} runs each, interleaved; medians)");
    println!(
        "  wasm validator task: {:>7.1} ms  ({:.1} tasks/s)",
        wasm_median * 1e3,
        1.0 / wasm_median
    );
    println!(
        "  linux /bin/true task: {:>6.1} ms  ({:.1} tasks/s)",
        elf_median * 1e3,
        1.0 / elf_median
    );
    println!("  wasm / linux time ratio: {:.2}", wasm_median / elf_median);
    println!("cold start of the HTTP app (ctr run -d → first 200 for /heart.svg)");
    println!("  first:  {:>7.1} ms", first_cold * 1e3);
    println!(
        "  median of the next {}: {:>7.1} ms",
        cold_runs - 1,
        cold_median * 1e3
    );
    println!("running HTTP app (after 200 requests)");
    println!(
        "  container process: PSS {:.1} MiB, RSS {:.1} MiB",
        app_pss as f64 / 1024.0,
        app_rss as f64 / 1024.0
    );
    println!(
        "  its shim process:  PSS {:.1} MiB, RSS {:.1} MiB",
        shim_pss as f64 / 1024.0,
        shim_rss as f64 / 1024.0
    );
    println!(
        "{{\"runs\":{runs},\"wasm_task_ms\":{:.2},\"linux_task_ms\":{:.2},\"wasm_tasks_per_s\":{:.2},\"ratio\":{:.3},\"cold_first_ms\":{:.1},\"cold_median_ms\":{:.1},\"app_pss_kib\":{app_pss},\"app_rss_kib\":{app_rss},\"shim_pss_kib\":{shim_pss},\"shim_rss_kib\":{shim_rss}}}",
        wasm_median * 1e3,
        elf_median * 1e3,
        1.0 / wasm_median,
        wasm_median / elf_median,
        first_cold * 1e3,
        cold_median * 1e3
    );
}

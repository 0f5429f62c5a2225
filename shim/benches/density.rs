//! Pod density on one node through CRI (needs root and Debian's containerd; run
//! `cargo xtask oci` and `cargo xtask node-fixtures` first):
//!
//! `cargo bench -p containerd-shim-heart --bench density [-- PODS]` (default 10)
//!
//! PODS pods of the chart (default values: init validator, then the app) started in turn on a
//! private containerd with CRI on, as the kubelet starts them (heart_testing::cri), each on
//! its own port of the node's network. For each: the time from `RunPodSandbox` to its first
//! passing readiness probe (polled every 10 ms, not at the chart's 5 s period), and, with all
//! of them running and having served, the PSS of its processes — the pod's shim (runwasi
//! groups a pod's containers in one), its pause container and its Wasm app. PSS splits shared
//! pages between the processes sharing them, so the pods' sum is what they cost together;
//! 4 GiB over the mean per pod is how many fit in 4 GiB (containerd itself aside).
//!
//! Anchors: runwasi's shim measured ≈ 22.7 MB per container (runwasi #808); Fermyon
//! reports 5,000 Spin apps on one k3s node (a vendor claim, one shim serving many apps).
//!
//! Prints a table and one JSON line.

use std::path::Path;
use std::time::{Duration, Instant};

use heart_testing::cri::node::probe_once;
use heart_testing::cri::{Fixtures, Node, Pod, PodPlan};
use heart_testing::process::{command_line, free_port, memory_kib, pids, tree, uid};

const APP: &str = "heart-display";
const FOUR_GIB_KIB: f64 = 4.0 * 1024.0 * 1024.0;

/// A pod's PSS in KiB: (shim, pause, app).
fn pod_pss(pod: &Pod) -> (u64, u64, u64) {
    let app_uid = pod
        .plan
        .container(APP)
        .and_then(|c| c.security.run_as_user)
        .and_then(|u| u32::try_from(u).ok());
    let needle = format!("-id {} ", pod.sandbox_id);
    let shims: Vec<u32> = pids()
        .into_iter()
        .filter(|&pid| format!("{} ", command_line(pid)).contains(&needle))
        .collect();
    // The pod's shim daemon: the one whose parent is not one of them.
    let daemon = shims
        .iter()
        .copied()
        .find(|&pid| {
            !shims
                .iter()
                .any(|&other| other != pid && tree(other).contains(&pid))
        })
        .unwrap_or_else(|| panic!("no shim for sandbox {}", pod.sandbox_id));
    let (mut shim, mut pause, mut app) = (0, 0, 0);
    for pid in tree(daemon) {
        let (pss, _) = memory_kib(pid);
        if command_line(pid).starts_with("/pause") {
            pause += pss;
        } else if uid(pid).is_some() && uid(pid) == app_uid {
            app += pss;
        } else {
            shim += pss;
        }
    }
    (shim, pause, app)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let pods: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let fixtures = Fixtures::load();
    let node = Node::start(Path::new(env!("CARGO_BIN_EXE_containerd-shim-heart-v1")));
    let mut running = Vec::new();
    let mut ready = Vec::new();
    for ordinal in 0..pods {
        let mut plan = PodPlan::from_rendered(&fixtures.documents, &fixtures.namespace, ordinal)
            .unwrap_or_else(|e| panic!("the chart's pod template: {e}"));
        let port = free_port();
        for container in &mut plan.containers {
            container.move_port("http", port);
        }
        let readiness = plan
            .container(APP)
            .and_then(|c| c.readiness_probe.clone())
            .expect("the chart's readiness probe");
        let started = Instant::now();
        let pod = node
            .run_pod(&plan)
            .unwrap_or_else(|e| panic!("pod {ordinal}: {e}\n{}", node.containerd().log()));
        while probe_once(&readiness).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "pod {ordinal} not ready in 120 s: {}",
                pod.log(APP)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        ready.push(started.elapsed().as_secs_f64());
        running.push((pod, port));
    }
    // Each app serves a little first, so its memory is that of an app in use.
    for (_, port) in &running {
        for path in ["/heart.svg", "/heart.png", "/api/heart?format=json"] {
            let url = format!("http://127.0.0.1:{port}{path}");
            let mut response = ureq::get(&url).call().expect("the app answers");
            response.body_mut().read_to_vec().expect("a body");
        }
    }
    let memory: Vec<(u64, u64, u64)> = running.iter().map(|(pod, _)| pod_pss(pod)).collect();
    let total: u64 = memory.iter().map(|(s, p, a)| s + p + a).sum();
    let per_pod = total as f64 / f64::from(pods);
    let (containerd_pss, _) = memory_kib(node.containerd().pid());

    println!("pod density through CRI: {pods} pods of the chart, started in turn");
    println!("  pod  ready (ms)  shim PSS (MiB)  pause  app  pod total");
    for (i, (seconds, (shim, pause, app))) in ready.iter().zip(&memory).enumerate() {
        println!(
            "  {i:>3}  {:>10.0}  {:>14.1}  {:>5.1}  {:>4.1}  {:>9.1}",
            seconds * 1e3,
            *shim as f64 / 1024.0,
            *pause as f64 / 1024.0,
            *app as f64 / 1024.0,
            (shim + pause + app) as f64 / 1024.0
        );
    }
    let fit = (FOUR_GIB_KIB / per_pod).floor();
    println!(
        "  time to ready: first {:.0} ms, median {:.0} ms",
        ready[0] * 1e3,
        median(ready.clone()) * 1e3
    );
    println!(
        "  all {pods} pods: {:.1} MiB PSS, {:.1} MiB a pod → {fit} pods in 4 GiB (containerd itself: {:.1} MiB)",
        total as f64 / 1024.0,
        per_pod / 1024.0,
        containerd_pss as f64 / 1024.0
    );
    println!("  anchor: runwasi's shim ≈ 22.7 MB a container (runwasi #808)");
    println!(
        "{{\"pods\":{pods},\"ready_first_ms\":{:.0},\"ready_median_ms\":{:.0},\"pss_total_kib\":{total},\"pss_per_pod_kib\":{per_pod:.0},\"pods_in_4gib\":{fit},\"containerd_pss_kib\":{containerd_pss}}}",
        ready[0] * 1e3,
        median(ready) * 1e3
    );
    for (pod, _) in &running {
        node.remove_pod(pod).expect("the pod removed");
    }
}

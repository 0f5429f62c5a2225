//! Pod start and density on one node through CRI (needs root and Debian's containerd; run
//! `cargo xtask oci` and `cargo xtask node-fixtures` first):
//!
//! `cargo bench -p containerd-shim-heart --bench density [-- PODS] [--cold N] [--baseline SHIM]`
//!
//! Pods of the chart (default values: init validator, then the app) started in turn on a
//! private containerd with CRI on, as the kubelet starts them (heart_testing::cri), each on its
//! own port of the node's network. Per pod, from `RunPodSandbox`:
//! - **first 200**: the app's first 200 on its startup probe's path (polled every 2 ms);
//! - **Ready**: when a kubelet would mark it Ready with the chart's probe numbers — its startup
//!   probe worker ticks every `periodSeconds` from the pod's start (a tick before the app runs
//!   probes nothing), and once the startup probe passes the kubelet runs the readiness probe at
//!   once; this prober does exactly that.
//!
//! `--cold N` pods (default 3) each start with the node's compile cache emptied (each compiles
//! its Wasm); then PODS pods (default 10) start warm and stay up; with all of them running and
//! having served, the PSS of each pod's processes — its shim (runwasi groups a pod's
//! containers in one), its pause container and its app. PSS splits shared pages between the
//! processes sharing them (the compiled code is one file mapped by every app), so the sum is
//! what the pods cost together; 4 GiB over the mean is how many fit in 4 GiB.
//!
//! `--baseline SHIM`: another build of `containerd-shim-heart-v1` (e.g. the last release of
//! main) on a second private node, one of its pods started after each cold and each of the
//! first 40 warm pods of ours (interleaved), those 40 kept up and their PSS measured alongside.
//!
//! Targets (issue 33): warm median first 200 ≤ 150 ms and Ready at the first probe; cold no worse
//! than the baseline; PSS ≤ 8 MiB a pod with 40+ pods (≥ 500 pods in 4 GiB). Anchors:
//! runwasi's shim ≈ 22.7 MB a container (runwasi #808); SpinKube's "sub-millisecond" app start
//! after its shim precompiles (a vendor claim).
//!
//! Prints a table and one JSON line.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heart_testing::cri::node::probe_once;
use heart_testing::cri::pod_template::HttpProbe;
use heart_testing::cri::{Fixtures, Node, Pod, PodPlan};
use heart_testing::process::{command_line, free_port, memory_kib, pids, rollup_kib, tree, uid};

const APP: &str = "heart-display";
const FOUR_GIB_KIB: f64 = 4.0 * 1024.0 * 1024.0;

/// Who a process of a pod is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Shim,
    Pause,
    App,
}

/// A pod's processes: its shim daemon (runwasi groups a pod's containers in one) and everything
/// below it — zygote, pause, app — each with its role.
fn pod_processes(pod: &Pod) -> Vec<(u32, Role)> {
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
    tree(daemon)
        .into_iter()
        .map(|pid| {
            let role = if command_line(pid).starts_with("/pause") {
                Role::Pause
            } else if uid(pid).is_some() && uid(pid) == app_uid {
                Role::App
            } else {
                Role::Shim
            };
            (pid, role)
        })
        .collect()
}

/// A pod's memory in KiB by role: `[Pss, Pss_Anon, Pss_File]` summed over its processes.
struct PodMemory {
    shim: [u64; 3],
    pause: [u64; 3],
    app: [u64; 3],
}

impl PodMemory {
    fn of(pod: &Pod) -> Self {
        let mut memory = PodMemory {
            shim: [0; 3],
            pause: [0; 3],
            app: [0; 3],
        };
        for (pid, role) in pod_processes(pod) {
            let sum = match role {
                Role::Shim => &mut memory.shim,
                Role::Pause => &mut memory.pause,
                Role::App => &mut memory.app,
            };
            let figures = rollup_kib(pid, ["Pss", "Pss_Anon", "Pss_File"]);
            sum.iter_mut().zip(figures).for_each(|(s, f)| *s += f);
        }
        memory
    }

    /// (shim, pause, app) PSS.
    fn pss(&self) -> (u64, u64, u64) {
        (self.shim[0], self.pause[0], self.app[0])
    }
}

/// One pod's start, in seconds from `RunPodSandbox`.
struct Start {
    first_200: f64,
    ready: f64,
    /// `Node::run_pod`'s CRI steps, each when it had finished.
    steps: Vec<(String, f64)>,
}

/// Runs pod `ordinal` of the chart on `node` on a free port and measures its start.
fn start_pod(node: &Node, fixtures: &Fixtures, ordinal: u32) -> (Pod, u16, Start) {
    let mut plan = PodPlan::from_rendered(&fixtures.documents, &fixtures.namespace, ordinal)
        .unwrap_or_else(|e| panic!("the chart's pod template: {e}"));
    let port = free_port();
    for container in &mut plan.containers {
        container.move_port("http", port);
    }
    let app = plan.container(APP).expect("the app container").clone();
    let startup = app
        .startup_probe
        .clone()
        .expect("the chart's startup probe");
    let readiness = app
        .readiness_probe
        .clone()
        .expect("the chart's readiness probe");
    let started = Instant::now();
    let pod = node
        .run_pod(&plan)
        .unwrap_or_else(|e| panic!("pod {ordinal}: {e}\n{}", node.containerd().log()));
    let fast = HttpProbe {
        timeout: Duration::from_millis(500),
        ..startup.clone()
    };
    while probe_once(&fast).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "pod {ordinal} not up in 120 s: {}",
            pod.log(APP)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let first_200 = started.elapsed().as_secs_f64();
    // The kubelet's startup worker: a probe at each period from the pod's start.
    let mut tick = 1;
    loop {
        let at = startup.period * tick;
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        if probe_once(&startup).is_ok() {
            break;
        }
        tick += 1;
        assert!(tick < 120, "pod {ordinal}: the startup probe never passed");
    }
    probe_once(&readiness).unwrap_or_else(|e| panic!("pod {ordinal} not ready: {e}"));
    let ready = started.elapsed().as_secs_f64();
    let steps = pod
        .timeline
        .iter()
        .map(|(step, at)| (step.clone(), at.as_secs_f64()))
        .collect();
    (
        pod,
        port,
        Start {
            first_200,
            ready,
            steps,
        },
    )
}

/// Empties the node's compile cache (the next pod compiles).
fn empty_cache(node: &Node) {
    let dir = node.containerd().node_cache_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("emptying the node cache");
    }
}

/// Each app serves a little first, so its memory is that of an app in use.
fn serve_a_little(port: u16) {
    for path in ["/heart.svg", "/heart.png", "/api/heart?format=json"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let mut response = ureq::get(&url).call().expect("the app answers");
        response.body_mut().read_to_vec().expect("a body");
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn ms(xs: &[Start], f: fn(&Start) -> f64) -> f64 {
    median(xs.iter().map(f).collect()) * 1e3
}

fn flag(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

/// The first number among the arguments that is no flag's value (cargo passes `--bench`).
fn pods_arg() -> Option<u32> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut skip = false;
    for arg in &args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if arg == "--cold" || arg == "--baseline" {
            skip = true;
        } else if let Ok(n) = arg.parse() {
            return Some(n);
        }
    }
    None
}

/// Baseline pods are numbered apart from ours (distinct pod names and uids in the logs).
const BASELINE_ORDINALS: u32 = 1000;

/// Baseline pods started beside our first warm ones and kept up for its PSS.
const BASELINE_KEPT: u32 = 40;

fn main() {
    let pods = pods_arg().unwrap_or(10);
    let cold: u32 = flag("--cold").and_then(|n| n.parse().ok()).unwrap_or(3);
    let baseline_shim = flag("--baseline").map(PathBuf::from);
    let fixtures = Fixtures::load();
    let node = Node::start(Path::new(env!("CARGO_BIN_EXE_containerd-shim-heart-v1")));
    let baseline = baseline_shim.as_deref().map(Node::start);
    let mut ordinal = 0;
    let mut base_starts = Vec::new();
    let mut base_running = Vec::new();
    let mut next_baseline = |ordinal: u32, keep: bool| {
        if let Some(base) = &baseline {
            let (pod, port, start) = start_pod(base, &fixtures, BASELINE_ORDINALS + ordinal);
            base_starts.push(start);
            if keep {
                base_running.push((pod, port));
            } else {
                base.remove_pod(&pod).expect("the baseline pod removed");
            }
        }
    };

    let mut cold_starts = Vec::new();
    for _ in 0..cold {
        empty_cache(&node);
        let (pod, _, start) = start_pod(&node, &fixtures, ordinal);
        cold_starts.push(start);
        node.remove_pod(&pod).expect("the pod removed");
        next_baseline(ordinal, false);
        ordinal += 1;
    }
    let mut warm_starts = Vec::new();
    let mut running = Vec::new();
    for i in 0..pods {
        let (pod, port, start) = start_pod(&node, &fixtures, ordinal);
        warm_starts.push(start);
        running.push((pod, port));
        // Baseline pods beside the first of ours, up to 40 kept up: its PSS with 40 pods.
        if i < BASELINE_KEPT {
            next_baseline(ordinal, true);
        }
        ordinal += 1;
    }
    drop(next_baseline);
    for (_, port) in running.iter().chain(&base_running) {
        serve_a_little(*port);
    }
    let measured: Vec<PodMemory> = running.iter().map(|(pod, _)| PodMemory::of(pod)).collect();
    let memory: Vec<(u64, u64, u64)> = measured.iter().map(PodMemory::pss).collect();
    let total: u64 = memory.iter().map(|(s, p, a)| s + p + a).sum();
    let per_pod = total as f64 / f64::from(pods);
    let base_memory: Vec<(u64, u64, u64)> = base_running
        .iter()
        .map(|(pod, _)| PodMemory::of(pod).pss())
        .collect();
    let base_per_pod = base_memory.iter().map(|(s, p, a)| s + p + a).sum::<u64>() as f64
        / base_memory.len().max(1) as f64;
    let (containerd_pss, _) = memory_kib(node.containerd().pid());
    // What a pod's shim and app PSS is made of: (shim anon, shim file, app anon, app file).
    let split = measured.iter().fold([0; 4], |mut a, m| {
        a.iter_mut()
            .zip([m.shim[1], m.shim[2], m.app[1], m.app[2]])
            .for_each(|(x, y)| *x += y);
        a
    });
    let mean = |kib: u64| kib as f64 / 1024.0 / f64::from(pods);

    println!(
        "pod start and density through CRI: {cold} cold + {pods} warm pods of the chart, started in turn"
    );
    println!("  pod  cache  first 200 (ms)  Ready (ms)  shim PSS (MiB)  pause  app  pod total");
    for (i, start) in cold_starts.iter().enumerate() {
        println!(
            "  {i:>3}  cold   {:>14.0}  {:>10.0}",
            start.first_200 * 1e3,
            start.ready * 1e3
        );
    }
    for (i, (start, (shim, pause, app))) in warm_starts.iter().zip(&memory).enumerate() {
        println!(
            "  {:>3}  warm   {:>14.0}  {:>10.0}  {:>14.1}  {:>5.1}  {:>4.1}  {:>9.1}",
            i + cold as usize,
            start.first_200 * 1e3,
            start.ready * 1e3,
            *shim as f64 / 1024.0,
            *pause as f64 / 1024.0,
            *app as f64 / 1024.0,
            (shim + pause + app) as f64 / 1024.0
        );
    }
    let fit = (FOUR_GIB_KIB / per_pod).floor();
    let cold_first = ms(&cold_starts, |s| s.first_200);
    let warm_first = ms(&warm_starts, |s| s.first_200);
    let warm_ready = ms(&warm_starts, |s| s.ready);
    println!(
        "  median first 200: cold {cold_first:.0} ms, warm {warm_first:.0} ms (target ≤ 150: {}); Ready: cold {:.0} ms, warm {warm_ready:.0} ms",
        if warm_first <= 150.0 { "met" } else { "missed" },
        ms(&cold_starts, |s| s.ready)
    );
    println!(
        "  all {pods} warm pods: {:.1} MiB PSS, {:.1} MiB a pod (target ≤ 8: {}) → {fit} pods in 4 GiB (containerd itself: {:.1} MiB)",
        total as f64 / 1024.0,
        per_pod / 1024.0,
        if per_pod <= 8.0 * 1024.0 {
            "met"
        } else {
            "missed"
        },
        containerd_pss as f64 / 1024.0
    );
    for (series, starts) in [("cold", &cold_starts), ("warm", &warm_starts)] {
        let Some(first) = starts.first() else {
            continue;
        };
        let mut line = format!("  {series} pods, median ms from RunPodSandbox:");
        for (i, (step, _)) in first.steps.iter().enumerate() {
            let at = median(starts.iter().map(|s| s.steps[i].1).collect()) * 1e3;
            line.push_str(&format!(" {step} {at:.0} →"));
        }
        line.push_str(&format!(" first 200 {:.0}", ms(starts, |s| s.first_200)));
        println!("{line}");
    }
    println!(
        "  a pod's PSS is: shim {:.1} MiB anonymous + {:.1} MiB file-backed, app {:.1} MiB anonymous + {:.1} MiB file-backed (the compiled code and the binary's text, shared)",
        mean(split[0]),
        mean(split[1]),
        mean(split[2]),
        mean(split[3])
    );
    let mut base_json = String::new();
    if !base_starts.is_empty() {
        let base_first = ms(&base_starts, |s| s.first_200);
        println!(
            "  baseline ({} pods, interleaved): median first 200 {base_first:.0} ms, Ready {:.0} ms, {:.1} MiB a pod ({} kept up) → ours cold {:.2}×, warm {:.2}× its first 200; {:.2}× its PSS",
            base_starts.len(),
            ms(&base_starts, |s| s.ready),
            base_per_pod / 1024.0,
            base_memory.len(),
            cold_first / base_first,
            warm_first / base_first,
            per_pod / base_per_pod
        );
        base_json = format!(
            ",\"baseline_first_200_ms\":{base_first:.0},\"baseline_ready_ms\":{:.0},\"baseline_pss_per_pod_kib\":{base_per_pod:.0}",
            ms(&base_starts, |s| s.ready)
        );
    }
    println!(
        "  anchors: runwasi's shim ≈ 22.7 MB a container (runwasi #808); SpinKube: sub-millisecond app start after precompiling"
    );
    println!(
        "{{\"pods\":{pods},\"cold_first_200_ms\":{cold_first:.0},\"warm_first_200_ms\":{warm_first:.0},\"cold_ready_ms\":{:.0},\"warm_ready_ms\":{warm_ready:.0},\"pss_total_kib\":{total},\"pss_per_pod_kib\":{per_pod:.0},\"pods_in_4gib\":{fit},\"containerd_pss_kib\":{containerd_pss}{base_json}}}",
        ms(&cold_starts, |s| s.ready)
    );
    for (pod, _) in &running {
        node.remove_pod(pod).expect("the pod removed");
    }
    if let Some(base) = &baseline {
        for (pod, _) in &base_running {
            base.remove_pod(pod).expect("the baseline pod removed");
        }
    }
}

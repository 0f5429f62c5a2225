//! The chart's pod while a node's daemons die (issue 36): containerd killed and restarted under
//! load — the app serves throughout (its shim outlives containerd), the restarted containerd
//! finds the pod again and a stop still works — and the pod's shim killed — containerd reports
//! the container exited rather than hanging, `RemovePodSandbox` cleans up, and a new pod
//! starts — and the app killed by its memory limit, reported `OOMKilled` as a kubelet reads
//! it. Each prints its figures: requests failed, time to recover.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use heart_testing::cri::node::probe_until_success;
use heart_testing::cri::{Node, Pod, PodPlan};
use k8s_cri::v1 as cri;

use crate::node::{
    APP, app_of, chart_pod, leaves_nothing_behind, one_app_at_a_time, ready_pod_of,
    removed_without_a_trace, status, url,
};

/// Requests sent back to back from a thread until stopped, counted.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl Load {
    /// Starts loading `target` (each request on a fresh connection, so a dead listener shows).
    fn start(target: String) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let thread = std::thread::spawn({
            let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
            move || {
                let mut errors = Vec::new();
                let agent = ureq::Agent::config_builder()
                    .max_idle_connections(0)
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .new_agent();
                while !stop.load(Ordering::Relaxed) {
                    let answer = agent.get(&target).call().and_then(|mut r| {
                        let status = r.status();
                        r.body_mut().read_to_vec().map(|_| status)
                    });
                    match answer {
                        Ok(status) if status == 200 => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            errors.push(format!("{other:?}"));
                        }
                    }
                }
                errors
            }
        });
        Load {
            stop,
            ok,
            failed,
            thread,
        }
    }

    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// Waits until `more` further requests have succeeded.
    fn wait_for(&self, more: u64) {
        let target = self.ok() + more;
        heart_testing::wait_until(
            &format!("{more} more requests served"),
            Duration::from_secs(30),
            || self.ok() >= target,
        );
    }

    /// Stops it: (served, failed, the failures).
    fn finish(self) -> (u64, u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let errors = self.thread.join().expect("the load thread");
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            errors,
        )
    }
}

/// A node running the chart's pod, past its startup probe.
fn ready_pod() -> (Node, Pod, PodPlan, u16) {
    ready_pod_of(chart_pod())
}

#[test]
fn the_pod_serves_through_a_containerd_restart_which_finds_it_again() {
    let _port = one_app_at_a_time();
    let (mut node, pod, _plan, port) = ready_pod();
    let load = Load::start(url(port, "/api/heart?format=json"));
    load.wait_for(50);
    let killed = Instant::now();
    let down = node.restart_containerd();
    // The restarted containerd recovers the pod from its state and the shim's socket.
    heart_testing::wait_until(
        "CRI lists the pod ready and its app running again",
        Duration::from_secs(30),
        || {
            node.sandboxes().is_ok_and(|s| {
                s.iter().any(|p| {
                    p.id == pod.sandbox_id && p.state == cri::PodSandboxState::SandboxReady as i32
                })
            }) && node.status(pod.id(APP)).is_ok_and(|r| {
                r.status
                    .is_some_and(|s| s.state == cri::ContainerState::ContainerRunning as i32)
            })
        },
    );
    let recovered = killed.elapsed();
    load.wait_for(50);
    let (served, failed, errors) = load.finish();
    eprintln!(
        "containerd restart: down {down:?}, pod found again after {recovered:?}; \
         {served} requests served, {failed} failed"
    );
    assert_eq!(
        failed, 0,
        "requests failed while containerd restarted: {errors:?}"
    );
    // A stop through the restarted containerd still works, and leaves nothing.
    leaves_nothing_behind(&node, &pod);
}

#[test]
fn a_killed_shim_is_reported_exited_and_its_pod_cleaned_up() {
    let _port = one_app_at_a_time();
    let (node, pod, plan, port) = ready_pod();
    let shims = node.containerd().leftover_pids();
    assert!(!shims.is_empty(), "the pod's shim runs");
    let killed = Instant::now();
    for pid in &shims {
        heart_testing::child::send(*pid, nix::sys::signal::Signal::SIGKILL);
    }
    // containerd sees its shim gone and reports the container exited, not running forever.
    heart_testing::wait_until(
        "the app container reported exited",
        Duration::from_secs(60),
        || {
            node.status(pod.id(APP)).is_ok_and(|r| {
                r.status
                    .is_some_and(|s| s.state == cri::ContainerState::ContainerExited as i32)
            })
        },
    );
    let reported = killed.elapsed();
    let exited = status(&node, pod.id(APP));
    eprintln!(
        "shim killed: the app reported exited after {reported:?} (exit code {}, reason {:?})",
        exited.exit_code, exited.reason
    );
    // Its process is killed by containerd's clean-up of the dead shim (the shim's `delete`).
    heart_testing::wait_until(
        "nothing serving on the pod's port",
        Duration::from_secs(10),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
    );
    eprintln!(
        "the app's port closed {:?} after the kill",
        killed.elapsed()
    );
    // Its socket too (the shim's `delete`, which containerd runs for a dead shim, removes it).
    removed_without_a_trace(&node, &pod);
    // The node runs a new pod.
    let again = node
        .run_pod(&plan)
        .unwrap_or_else(|e| panic!("{e}\ncontainerd:\n{}", node.containerd().log()));
    let app = plan.container(APP).expect("the app container");
    probe_until_success(app.startup_probe.as_ref().expect("a startup probe"))
        .unwrap_or_else(|e| panic!("the new pod's startup probe: {e}\n{}", again.log(APP)));
    leaves_nothing_behind(&node, &again);
}

/// The app's memory limit in the OOM test: the host and a few big renders fit, 48 at once do
/// not (each 1024-pixel PNG instance takes several MiB of guest memory, within its own Wasm
/// limit).
const SMALL_MEMORY_LIMIT: i64 = 96 << 20;

#[test]
fn the_app_killed_by_its_memory_limit_is_reported_oom_killed() {
    let _port = one_app_at_a_time();
    let mut plan = chart_pod();
    let app = app_of(&mut plan);
    app.resources.memory_limit = Some(SMALL_MEMORY_LIMIT);
    app.resources.memory_request = app
        .resources
        .memory_request
        .map(|r| r.min(SMALL_MEMORY_LIMIT));
    let (node, pod, _plan, port) = ready_pod_of(plan);
    // Many big renders at once: their guests' memory adds up past the container's limit.
    let started = Instant::now();
    let renders: Vec<_> = (0..48)
        .map(|_| {
            let target = url(port, "/heart.png?size=1024");
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .new_agent();
                agent.get(&target).call().map(|r| r.status()).ok()
            })
        })
        .collect();
    heart_testing::wait_until("the app container exited", Duration::from_secs(60), || {
        node.status(pod.id(APP)).is_ok_and(|r| {
            r.status
                .is_some_and(|s| s.state == cri::ContainerState::ContainerExited as i32)
        })
    });
    let exited_after = started.elapsed();
    let answered = renders
        .into_iter()
        .filter_map(|r| r.join().expect("a render thread"))
        .count();
    let exited = status(&node, pod.id(APP));
    eprintln!(
        "OOM: the app exited {exited_after:?} after the renders began ({answered} of 48 answered), exit code {}, reason {:?}",
        exited.exit_code, exited.reason
    );
    assert_eq!(
        (exited.exit_code, exited.reason.as_str()),
        (137, "OOMKilled"),
        "killed by its memory limit, reported as a kubelet reads it"
    );
    removed_without_a_trace(&node, &pod);
}

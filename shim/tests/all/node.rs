//! The chart's pod on a node, run the way the kubelet runs it: CRI calls on a private
//! containerd with CRI on and the `heart` runtime handler (heart_testing::cri). The pod comes
//! from the chart rendered with default values (`dist/node/chart.json`); a field of its template
//! the kubelet side does not translate fails the test with the field's path. The pod uses the
//! node's network namespace, so its probes and requests go to 127.0.0.1.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::{Duration, Instant};

use heart_testing::cri::node::{probe_once, probe_until_success};
use heart_testing::cri::pod_template::ContainerPlan;
use heart_testing::cri::{Fixtures, Node, Pod, PodFailure, PodPlan};
use k8s_cri::v1 as cri;

pub(crate) const APP: &str = "heart-display";
pub(crate) const INIT: &str = "validate-config";

pub(crate) fn shim() -> &'static std::path::Path {
    env!("CARGO_BIN_EXE_containerd-shim-heart-v1").as_ref()
}

/// Held by each test that runs the chart's app: it listens on the node's network at the
/// chart's port, so one such pod runs at a time.
pub(crate) fn one_app_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static APP_PORT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    APP_PORT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Pod 0 of the chart's StatefulSet.
pub(crate) fn chart_pod() -> PodPlan {
    let fixtures = Fixtures::load();
    PodPlan::from_rendered(&fixtures.documents, &fixtures.namespace, 0)
        .unwrap_or_else(|e| panic!("the chart's pod template: {e}"))
}

/// The app container of `plan`, to change before the pod runs.
pub(crate) fn app_of(plan: &mut PodPlan) -> &mut ContainerPlan {
    plan.containers
        .iter_mut()
        .find(|c| c.name == APP)
        .expect("the app container")
}

/// `plan` run on a new node until its app passes the startup probe: the node, the pod, the
/// plan and the app's port.
pub(crate) fn ready_pod_of(plan: PodPlan) -> (Node, Pod, PodPlan, u16) {
    let app = plan.container(APP).expect("the app container").clone();
    let port = *app.ports.get("http").expect("the http port");
    let node = Node::start(shim());
    let pod = node
        .run_pod(&plan)
        .unwrap_or_else(|e| panic!("{e}\ncontainerd:\n{}", node.containerd().log()));
    let startup = app.startup_probe.as_ref().expect("a startup probe");
    probe_until_success(startup).unwrap_or_else(|e| panic!("startup probe: {e}\n{}", pod.log(APP)));
    (node, pod, plan, port)
}

pub(crate) fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

pub(crate) fn get_text(url: &str) -> String {
    ureq::get(url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

pub(crate) fn status(node: &Node, id: &str) -> cri::ContainerStatus {
    node.status(id)
        .expect("ContainerStatus")
        .status
        .expect("a status")
}

/// The container's process, from the runtime's verbose status.
pub(crate) fn pid(node: &Node, id: &str) -> u32 {
    let info = node.status(id).expect("ContainerStatus").info;
    let info: serde_json::Value =
        serde_json::from_str(info.get("info").expect("verbose info")).expect("JSON info");
    u32::try_from(info["pid"].as_u64().expect("a pid")).expect("a pid fits u32")
}

/// `/proc/<pid>/status`, parsed.
fn proc_status(pid: u32) -> heart_testing::process::Status {
    heart_testing::process::status(pid).unwrap_or_else(|| panic!("no /proc/{pid}/status"))
}

#[test]
fn the_charts_pod_runs_on_the_node_as_the_kubelet_runs_it() {
    let _port = one_app_at_a_time();
    let plan = chart_pod();
    let app = plan.container(APP).expect("the app container").clone();
    let port = *app.ports.get("http").expect("the http port");
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "the pod uses the node's network and its port {port} is taken on this machine"
    );
    let node = Node::start(shim());
    let mut pod = node
        .run_pod(&plan)
        .unwrap_or_else(|e| panic!("{e}\ncontainerd:\n{}", node.containerd().log()));

    // The Wasm init container ran to completion on the chart's ConfigMap.
    let init = status(&node, pod.id(INIT));
    assert_eq!(
        (init.state, init.exit_code),
        (cri::ContainerState::ContainerExited as i32, 0),
        "{}",
        pod.log(INIT)
    );

    // The kubelet's probes: startup until it passes, then readiness and liveness.
    let startup = app.startup_probe.as_ref().expect("a startup probe");
    let took = probe_until_success(startup)
        .unwrap_or_else(|e| panic!("startup probe: {e}\n{}", pod.log(APP)));
    eprintln!("started in {took:?} (startup probe)");
    for probe in [&app.readiness_probe, &app.liveness_probe] {
        let probe = probe.as_ref().expect("the chart's probes");
        probe_once(probe).unwrap_or_else(|e| panic!("{e}\n{}", pod.log(APP)));
    }

    // As the chart's securityContext says: non-root, read-only root, no capabilities,
    // no privilege escalation, seccomp filtering.
    let process = pid(&node, pod.id(APP));
    let own = proc_status(process);
    assert_eq!(own.ruid, 65532, "Uid");
    assert_eq!(own.rgid, 65532, "Gid");
    assert!(
        own.groups.contains(&65532),
        "fsGroup among the groups: {:?}",
        own.groups
    );
    let sets = [
        ("CapEff", Some(own.capeff)),
        ("CapPrm", Some(own.capprm)),
        ("CapBnd", own.capbnd),
        ("CapAmb", own.capamb),
        ("CapInh", Some(own.capinh)),
    ];
    for (set, value) in sets {
        assert_eq!(value, Some(0), "{set}");
    }
    assert_eq!(own.nonewprivs, Some(1), "NoNewPrivs");
    assert_eq!(own.seccomp, Some(2), "seccomp in filter mode");
    let mounts = std::fs::read_to_string(format!("/proc/{process}/mounts")).expect("mounts");
    let root = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("/"))
        .expect("a root mount");
    assert!(
        root.split(' ')
            .nth(3)
            .is_some_and(|o| o.split(',').any(|f| f == "ro")),
        "{root}"
    );

    // The pod's identity from the downward API labels the metrics.
    let metrics = get_text(&url(port, "/metrics"));
    assert!(
        metrics.contains(&format!("pod_name=\"{}\"", plan.name))
            && metrics.contains(&format!("namespace=\"{}\"", plan.namespace)),
        "identity labels in {metrics}"
    );

    // What the kubelet, metrics-server and the CPU HPA read, after some load.
    let png = url(port, "/api/heart?format=png&size=512");
    for _ in 0..200 {
        let mut response = ureq::get(&png).call().expect("a PNG");
        assert_eq!(response.status(), 200);
        response.body_mut().read_to_vec().expect("its body");
    }
    let stats = node
        .cri
        .runtime(|mut c| {
            let request = cri::ContainerStatsRequest {
                container_id: pod.id(APP).to_owned(),
            };
            async move { c.container_stats(request).await }
        })
        .expect("ContainerStats")
        .stats
        .expect("stats");
    let cpu = stats
        .cpu
        .and_then(|c| c.usage_core_nano_seconds)
        .map_or(0, |v| v.value);
    let memory = stats
        .memory
        .and_then(|m| m.working_set_bytes)
        .map_or(0, |v| v.value);
    eprintln!("ContainerStats: {cpu} ns CPU, {memory} B working set");
    assert!(cpu > 50_000_000, "200 PNG renders used {cpu} ns of CPU");
    assert!(memory > 1 << 20, "working set {memory} B");
    let listed = node
        .cri
        .runtime(|mut c| {
            let request = cri::ListContainerStatsRequest {
                filter: Some(cri::ContainerStatsFilter {
                    pod_sandbox_id: pod.sandbox_id.clone(),
                    ..Default::default()
                }),
            };
            async move { c.list_container_stats(request).await }
        })
        .expect("ListContainerStats")
        .stats;
    let app_stats = listed
        .iter()
        .find(|s| s.attributes.as_ref().is_some_and(|a| a.id == pod.id(APP)))
        .expect("the app among the listed stats");
    assert!(
        app_stats
            .cpu
            .as_ref()
            .and_then(|c| c.usage_core_nano_seconds.as_ref())
            .is_some_and(|v| v.value >= cpu),
        "{app_stats:?}"
    );
    assert!(
        app_stats
            .memory
            .as_ref()
            .and_then(|m| m.working_set_bytes.as_ref())
            .is_some_and(|v| v.value > 1 << 20),
        "{app_stats:?}"
    );

    // The app's status as the kubelet reads it.
    let before = status(&node, pod.id(APP));
    assert_eq!(before.state, cri::ContainerState::ContainerRunning as i32);
    assert!(before.started_at > 0 && before.exit_code == 0, "{before:?}");

    config_reloads_without_a_restart(&node, &mut pod, port, &before);
    stops_gracefully_with_a_request_in_flight(&node, &pod, port);
    leaves_nothing_behind(&node, &pod);
}

/// Rewrites the ConfigMap volume as the kubelet does; `/api/config` follows within the reload
/// bound, and the container is the same one, never restarted.
fn config_reloads_without_a_restart(
    node: &Node,
    pod: &mut Pod,
    port: u16,
    before: &cri::ContainerStatus,
) {
    let config = |path| -> serde_json::Value {
        serde_json::from_str(&get_text(&url(port, path))).expect("JSON")
    };
    assert_eq!(
        config("/api/config")["love_level"],
        7,
        "the chart's default"
    );
    let mut data: BTreeMap<String, String> = pod.plan.volumes["config"].clone();
    data.insert("love-level".into(), "9".into());
    let volume = pod.config.get_mut("config").expect("the config volume");
    volume.update(&data).expect("the ConfigMap rewritten");
    let written = Instant::now();
    heart_testing::wait_until(
        "love level 9 from the rewritten ConfigMap",
        Duration::from_secs(5),
        || config("/api/config")["love_level"] == 9,
    );
    eprintln!("reloaded in {:?}", written.elapsed());
    data.insert("love-level".into(), "11".into());
    volume.update(&data).expect("a bad ConfigMap written");
    // Refused (counted), and the last good config keeps serving; nothing restarts.
    heart_testing::wait_until("the bad ConfigMap refused", Duration::from_secs(5), || {
        let metrics = get_text(&url(port, "/metrics"));
        heart_testing::metric(
            &metrics,
            "heart_config_reloads_total",
            &[("result", "failed")],
        )
        .is_some_and(|n| n >= 1.0)
    });
    assert_eq!(
        config("/api/config")["love_level"],
        9,
        "the last good config"
    );
    let after = status(node, pod.id(APP));
    assert_eq!(
        (
            after.state,
            after.started_at,
            after.metadata.map(|m| m.attempt)
        ),
        (before.state, before.started_at, Some(0)),
        "the same container, not restarted"
    );
}

/// `StopContainer` with the pod's grace period while a stream is open: the stream ends with
/// its closing frame, and the container exits 0 well within the grace period.
fn stops_gracefully_with_a_request_in_flight(node: &Node, pod: &Pod, port: u16) {
    let live = url(port, "/live?seconds=60&fps=2&ascii=1");
    let (first_frame, frame_seen) = std::sync::mpsc::channel();
    let client = std::thread::spawn(move || {
        let mut response = ureq::get(&live).call().expect("a stream");
        let mut reader = response.body_mut().as_reader();
        let mut body = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(String::from_utf8_lossy(&body).into_owned()),
                Ok(n) => {
                    body.extend_from_slice(&chunk[..n]);
                    let _ = first_frame.send(());
                }
                Err(e) => return Err(format!("{e} after {:?}", String::from_utf8_lossy(&body))),
            }
        }
    });
    frame_seen
        .recv_timeout(Duration::from_secs(10))
        .expect("the stream's first frame");
    let grace = pod.plan.termination_grace;
    let stop = cri::StopContainerRequest {
        container_id: pod.id(APP).to_owned(),
        timeout: i64::try_from(grace.as_secs()).expect("seconds"),
    };
    let asked = Instant::now();
    node.cri
        .runtime(|mut c| async move { c.stop_container(stop).await })
        .expect("StopContainer");
    let took = asked.elapsed();
    eprintln!("stopped in {took:?} (grace {grace:?})");
    assert!(
        took < grace,
        "stopped by the grace period's SIGKILL: {took:?}"
    );
    let body = client
        .join()
        .expect("the client thread")
        .expect("the stream completes");
    assert!(
        body.contains("the server is shutting down; the stream ends here"),
        "the stream's closing frame: {body:?}"
    );
    let stopped = status(node, pod.id(APP));
    assert_eq!(
        (stopped.state, stopped.exit_code),
        (cri::ContainerState::ContainerExited as i32, 0),
        "{stopped:?}\n{}",
        pod.log(APP)
    );
    assert!(pod.log(APP).contains("SIGTERM"), "{}", pod.log(APP));
}

/// `StopPodSandbox` and `RemovePodSandbox`: no sandbox, container, shim, mount or cgroup is
/// left.
pub(crate) fn leaves_nothing_behind(node: &Node, pod: &Pod) {
    let socket = node.containerd().shim_socket("k8s.io", &pod.sandbox_id);
    assert!(
        socket.exists(),
        "the pod's shim socket {}",
        socket.display()
    );
    removed_without_a_trace(node, pod);
}

/// `StopPodSandbox` and `RemovePodSandbox` (the pod's shim alive or not): no sandbox,
/// container, shim, socket, mount or cgroup is left.
pub(crate) fn removed_without_a_trace(node: &Node, pod: &Pod) {
    let socket = node.containerd().shim_socket("k8s.io", &pod.sandbox_id);
    node.remove_pod(pod).expect("the pod removed");
    let sandboxes = node.sandboxes().expect("ListPodSandbox");
    let containers = node.containers().expect("ListContainers");
    assert!(
        sandboxes.is_empty() && containers.is_empty(),
        "{sandboxes:?} {containers:?}"
    );
    heart_testing::wait_until("the pod's shims gone", Duration::from_secs(10), || {
        node.containerd().leftover_pids().is_empty()
    });
    assert!(
        !socket.exists(),
        "the shim's socket {} is left",
        socket.display()
    );
    // After a dead shim, containerd unmounts its containers' rootfs in its own clean-up, which
    // may finish just after RemovePodSandbox answers: a mount still there after 10 s is left.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node.containerd().mounts().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        node.containerd().mounts(),
        Vec::<String>::new(),
        "mounts left"
    );
    assert_eq!(
        node.cgroups_left(),
        Vec::<std::path::PathBuf>::new(),
        "cgroups left"
    );
}

#[test]
fn a_bad_configmap_fails_the_init_container_and_the_app_never_starts() {
    let mut plan = chart_pod();
    plan.volumes
        .get_mut("config")
        .expect("the config volume")
        .insert("love-level".into(), "11".into());
    let node = Node::start(shim());
    let failure = node.run_pod(&plan).expect_err("the init container fails");
    let PodFailure::InitFailed {
        container,
        exit_code,
        log,
    } = failure
    else {
        panic!("{failure}\ncontainerd:\n{}", node.containerd().log());
    };
    assert_eq!(container, INIT);
    assert_ne!(exit_code, 0);
    assert!(
        log.contains("love level `11` is out of range 1..=10"),
        "the validator's message in its log: {log:?}"
    );
    let names: Vec<String> = node
        .containers()
        .expect("ListContainers")
        .into_iter()
        .filter_map(|c| c.metadata.map(|m| m.name))
        .collect();
    assert_eq!(names, [INIT], "only the init container was created");
}

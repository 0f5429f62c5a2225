//! A Kubernetes node without its control plane: a private containerd with CRI on and the
//! `heart` runtime handler, the sandbox (pause) and app images imported locally, and the
//! kubelet's part in running a pod — the ConfigMap volumes written, `RunPodSandbox` with the
//! RuntimeClass's handler, the init containers run in order to completion, then the app
//! containers, and HTTP probes on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_cri::v1 as cri;
use serde_json::Value;

use super::client::CriClient;
use super::config_volume::ConfigMapVolume;
use super::pod_template::{HttpProbe, MountPlan, PodPlan};
use crate::containerd::{CriPlugin, PrivateContainerd};

/// The pause image `cargo xtask node-fixtures` writes, and the name it imports as.
pub const PAUSE_IMAGE: &str = "localhost/heart-pause:0.1.0";

/// What the node test needs beside the shim, made by `cargo xtask node-fixtures`.
#[derive(Debug)]
pub struct Fixtures {
    /// The rendered chart's documents (default values).
    pub documents: Vec<Value>,
    /// The node installer's documents (`nodeInstaller.enabled`; its restart command writes
    /// `/restarted.log` in the node's root instead of restarting this machine's containerd).
    pub installer: Vec<Value>,
    /// The namespace it was rendered for.
    pub namespace: String,
}

impl Fixtures {
    /// Reads `dist/node/chart.json`; panics naming the command that makes it.
    pub fn load() -> Fixtures {
        let path = node_dist().join("chart.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run `cargo xtask node-fixtures` (the suite does)",
                path.display()
            )
        });
        let json: Value = serde_json::from_str(&text).expect("chart.json is JSON");
        Fixtures {
            documents: json["documents"].as_array().cloned().unwrap_or_default(),
            installer: json["installer"].as_array().cloned().unwrap_or_default(),
            namespace: json["namespace"].as_str().unwrap_or("default").to_owned(),
        }
    }
}

/// `dist/node/`, where `cargo xtask node-fixtures` writes.
pub fn node_dist() -> PathBuf {
    crate::root().join("dist/node")
}

/// How running a pod failed, as the kubelet would report it.
#[derive(Debug)]
pub enum PodFailure {
    /// A CRI call failed.
    Cri {
        /// The call.
        call: String,
        /// containerd's answer.
        status: Box<tonic::Status>,
    },
    /// An init container exited non-zero; the app containers were not created.
    InitFailed {
        /// Its name.
        container: String,
        /// Its exit code.
        exit_code: i32,
        /// Its log (stdout and stderr).
        log: String,
    },
    /// A volume could not be written.
    Volume(std::io::Error),
}

impl std::fmt::Display for PodFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PodFailure::Cri { call, status } => write!(f, "{call}: {status}"),
            PodFailure::InitFailed {
                container,
                exit_code,
                log,
            } => write!(f, "init container {container} exited {exit_code}: {log}"),
            PodFailure::Volume(e) => write!(f, "writing a volume: {e}"),
        }
    }
}

fn cri_failed(call: &str) -> impl FnOnce(Box<tonic::Status>) -> PodFailure + '_ {
    move |status| PodFailure::Cri {
        call: call.to_owned(),
        status,
    }
}

/// A node: containerd (CRI on) and the kubelet's directories.
#[derive(Debug)]
pub struct Node {
    /// The CRI client (the kubelet's connection).
    pub cri: CriClient,
    api: Option<ApiAccess>,
    /// Taken on drop, so it stops before the node's cgroups are removed.
    containerd: Option<PrivateContainerd>,
    dir: tempfile::TempDir,
    cgroup_parent: String,
}

impl Node {
    /// Starts containerd with CRI on and `shim` on its PATH, and imports the pause image and
    /// the app's OCI artifact into CRI's namespace; panics with the reason when it cannot.
    pub fn start(shim: &Path) -> Node {
        let containerd = PrivateContainerd::start_with(shim, Some(&Self::cri_plugin(true)));
        Self::on(containerd)
    }

    /// A cgroup parent of this node's own: the nodes a test process runs at once never see
    /// each other's pods among their cgroups.
    fn new_cgroup_parent() -> String {
        static NODES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NODES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("/heart-node-{}-{n}", std::process::id())
    }

    /// The CRI plugin's settings of a node, naming the `heart` runtime or not (a node that
    /// the node installer configures).
    pub fn cri_plugin(heart_runtime: bool) -> CriPlugin {
        CriPlugin {
            sandbox_image: PAUSE_IMAGE.to_owned(),
            heart_runtime,
        }
    }

    /// A node on a running `containerd` (CRI on, from [`Node::cri_plugin`]): the pause image and
    /// the app's artifact imported, the kubelet's connection made.
    pub fn on(containerd: PrivateContainerd) -> Node {
        let pause = node_dist().join("pause.oci.tar");
        let app = crate::root().join("dist/oci/heart-display.oci.tar");
        for (file, command) in [(&pause, "node-fixtures"), (&app, "oci")] {
            assert!(
                file.is_file(),
                "{} is missing: run `cargo xtask {command}`",
                file.display()
            );
        }
        containerd.import_into("k8s.io", &pause);
        containerd.import_into("k8s.io", &app);
        let cri = CriClient::connect(containerd.address())
            .unwrap_or_else(|e| panic!("connecting to CRI: {e}\n{}", containerd.log()));
        // Fails here, with containerd's reason in its log, when the CRI plugin did not load.
        let version = cri::VersionRequest::default();
        cri.runtime(|mut c| async move { c.version(version).await })
            .unwrap_or_else(|e| panic!("CRI Version: {e}\ncontainerd:\n{}", containerd.log()));
        let dir = tempfile::Builder::new()
            .prefix("heart-kubelet-")
            .tempdir()
            .expect("kubelet dir");
        Node {
            cri,
            api: None,
            containerd: Some(containerd),
            dir,
            cgroup_parent: Self::new_cgroup_parent(),
        }
    }

    /// Kills the node's containerd (SIGKILL) and starts it again on the same state, as after
    /// a crash; the kubelet's connection is made anew. Returns how long containerd did not
    /// answer.
    pub fn restart_containerd(&mut self) -> Duration {
        let containerd = self.containerd.as_mut().expect("taken only on drop");
        let down = containerd.kill_and_restart();
        self.cri = CriClient::connect(containerd.address())
            .unwrap_or_else(|e| panic!("reconnecting to CRI: {e}\n{}", containerd.log()));
        down
    }

    /// The node's containerd.
    pub fn containerd(&self) -> &PrivateContainerd {
        self.containerd.as_ref().expect("taken only on drop")
    }

    /// The API server the pods' service accounts reach (none by default: a pod that mounts
    /// its token then fails to start).
    pub fn set_api(&mut self, access: ApiAccess) {
        self.api = Some(access);
    }

    /// Runs `plan` as the kubelet does, up to its app containers started (not yet ready).
    pub fn run_pod(&self, plan: &PodPlan) -> Result<Pod, PodFailure> {
        let began = Instant::now();
        let mut plan = plan.clone();
        let mut extra_volumes = plan.host_paths.clone();
        if plan.service_account.is_some() {
            // The kubelet's projected token volume, and the API server's address in the env.
            let access = self.api.as_ref().ok_or_else(|| {
                PodFailure::Volume(std::io::Error::other(format!(
                    "{} mounts a service account token and this node has no API server",
                    plan.name
                )))
            })?;
            extra_volumes.insert(TOKEN_VOLUME.into(), access.account_dir.clone());
            for container in plan.init_containers.iter_mut().chain(&mut plan.containers) {
                container.mounts.push(MountPlan {
                    volume: TOKEN_VOLUME.into(),
                    path: SERVICE_ACCOUNT_PATH.into(),
                    read_only: true,
                });
                container.env.extend(access.env.iter().cloned());
            }
        }
        let plan = &plan;
        let pod_dir = self.dir.path().join(format!("pods/{}", plan.uid));
        let mut volumes = BTreeMap::new();
        let mut config = BTreeMap::new();
        for (name, data) in &plan.volumes {
            let dir = pod_dir.join(format!("volumes/kubernetes.io~configmap/{name}"));
            let fs_group = plan.security.fs_group.and_then(|g| u32::try_from(g).ok());
            let volume =
                ConfigMapVolume::create(&dir, data, fs_group).map_err(PodFailure::Volume)?;
            volumes.insert(name.clone(), dir);
            config.insert(name.clone(), volume);
        }
        let log_directory = self.dir.path().join(format!(
            "logs/{}_{}_{}",
            plan.namespace, plan.name, plan.uid
        ));
        std::fs::create_dir_all(&log_directory).map_err(PodFailure::Volume)?;
        volumes.extend(extra_volumes);
        let sandbox_config = plan.sandbox_config(&log_directory, &self.pod_cgroup(plan));
        let request = cri::RunPodSandboxRequest {
            config: Some(sandbox_config.clone()),
            runtime_handler: plan.handler.clone(),
        };
        let sandbox_id = self
            .cri
            .runtime(|mut c| async move { c.run_pod_sandbox(request).await })
            .map_err(cri_failed("RunPodSandbox"))?
            .pod_sandbox_id;
        let mut pod = Pod {
            plan: plan.clone(),
            sandbox_id,
            containers: BTreeMap::new(),
            config,
            log_directory,
            timeline: vec![("RunPodSandbox".to_owned(), began.elapsed())],
        };
        let create_and_start = |pod: &mut Pod, container| -> Result<String, PodFailure> {
            let request = cri::CreateContainerRequest {
                pod_sandbox_id: pod.sandbox_id.clone(),
                config: Some(plan.container_config(container, &volumes)),
                sandbox_config: Some(sandbox_config.clone()),
            };
            let id = self
                .cri
                .runtime(|mut c| async move { c.create_container(request).await })
                .map_err(cri_failed("CreateContainer"))?
                .container_id;
            pod.containers.insert(container.name.clone(), id.clone());
            let step = format!("CreateContainer {}", container.name);
            pod.timeline.push((step, began.elapsed()));
            let start = cri::StartContainerRequest {
                container_id: id.clone(),
            };
            self.cri
                .runtime(|mut c| async move { c.start_container(start).await })
                .map_err(cri_failed("StartContainer"))?;
            let step = format!("StartContainer {}", container.name);
            pod.timeline.push((step, began.elapsed()));
            Ok(id)
        };
        for init in &plan.init_containers {
            let id = create_and_start(&mut pod, init)?;
            let status = self.wait_exited(&id, Duration::from_secs(120))?;
            let step = format!("{} exited", init.name);
            pod.timeline.push((step, began.elapsed()));
            if status.exit_code != 0 {
                return Err(PodFailure::InitFailed {
                    container: init.name.clone(),
                    exit_code: status.exit_code,
                    log: pod.log(&init.name),
                });
            }
        }
        for container in &plan.containers {
            create_and_start(&mut pod, container)?;
        }
        Ok(pod)
    }

    /// The container's status (with the runtime's verbose info: its `pid`).
    pub fn status(
        &self,
        container_id: &str,
    ) -> Result<cri::ContainerStatusResponse, Box<tonic::Status>> {
        let request = cri::ContainerStatusRequest {
            container_id: container_id.to_owned(),
            verbose: true,
        };
        self.cri
            .runtime(|mut c| async move { c.container_status(request).await })
    }

    /// Every container CRI lists (`ListContainers`, no filter).
    pub fn containers(&self) -> Result<Vec<cri::Container>, Box<tonic::Status>> {
        let request = cri::ListContainersRequest::default();
        self.cri
            .runtime(|mut c| async move { c.list_containers(request).await })
            .map(|r| r.containers)
    }

    /// Every pod sandbox CRI lists (`ListPodSandbox`, no filter).
    pub fn sandboxes(&self) -> Result<Vec<cri::PodSandbox>, Box<tonic::Status>> {
        let request = cri::ListPodSandboxRequest::default();
        self.cri
            .runtime(|mut c| async move { c.list_pod_sandbox(request).await })
            .map(|r| r.items)
    }

    fn wait_exited(&self, id: &str, limit: Duration) -> Result<cri::ContainerStatus, PodFailure> {
        let deadline = Instant::now() + limit;
        loop {
            let status = self
                .status(id)
                .map_err(cri_failed("ContainerStatus"))?
                .status
                .unwrap_or_default();
            if status.state == cri::ContainerState::ContainerExited as i32 {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(PodFailure::Cri {
                    call: "ContainerStatus".into(),
                    status: Box::new(tonic::Status::deadline_exceeded(format!(
                        "{id} has not exited in {limit:?}"
                    ))),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops and removes the pod's sandbox (and so its containers) as the kubelet does when
    /// the pod is deleted; the app containers get the pod's grace period first.
    pub fn remove_pod(&self, pod: &Pod) -> Result<(), Box<tonic::Status>> {
        for name in pod.plan.containers.iter().map(|c| &c.name) {
            if let Some(id) = pod.containers.get(name) {
                let request = cri::StopContainerRequest {
                    container_id: id.clone(),
                    timeout: i64::try_from(pod.plan.termination_grace.as_secs()).unwrap_or(30),
                };
                self.cri
                    .runtime(|mut c| async move { c.stop_container(request).await })?;
            }
        }
        self.remove_sandbox(pod.sandbox_id.clone())?;
        // The kubelet's own pod cgroup, removed by its housekeeping once the runtime has
        // removed the containers' (after a dead shim that is containerd's clean-up, which runs
        // on its own); one the runtime leaves a container cgroup in stays, after 10 s, for
        // `cgroups_left` to report.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let dirs = cgroup_dirs(&self.pod_cgroup(&pod.plan));
            for dir in &dirs {
                let _ = std::fs::remove_dir(dir);
            }
            if cgroup_dirs(&self.pod_cgroup(&pod.plan)).is_empty() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// `StopPodSandbox` then `RemovePodSandbox` of sandbox `id` (its containers with it).
    fn remove_sandbox(&self, id: String) -> Result<(), Box<tonic::Status>> {
        let stop = cri::StopPodSandboxRequest {
            pod_sandbox_id: id.clone(),
        };
        self.cri
            .runtime(|mut c| async move { c.stop_pod_sandbox(stop).await })?;
        let remove = cri::RemovePodSandboxRequest { pod_sandbox_id: id };
        self.cri
            .runtime(|mut c| async move { c.remove_pod_sandbox(remove).await })?;
        Ok(())
    }

    /// The pod's cgroup parent (the kubelet's `pod<uid>` under the node's).
    fn pod_cgroup(&self, plan: &PodPlan) -> String {
        format!("{}/pod{}", self.cgroup_parent, plan.uid)
    }

    /// Cgroups left below this node's cgroup parent, in any hierarchy (v1: one per
    /// controller; v2: one tree): pods' and their containers'.
    pub fn cgroups_left(&self) -> Vec<PathBuf> {
        let mut left = Vec::new();
        let mut dirs = cgroup_dirs(&self.cgroup_parent);
        while let Some(dir) = dirs.pop() {
            for child in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if child.file_type().is_ok_and(|t| t.is_dir()) {
                    left.push(child.path());
                    dirs.push(child.path());
                }
            }
        }
        left
    }
}

/// The directories of cgroup `path` in every mounted hierarchy that has it.
fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let base = Path::new("/sys/fs/cgroup");
    let relative = path.trim_start_matches('/');
    let hierarchies = std::fs::read_dir(base)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path());
    hierarchies
        .chain([base.to_owned()])
        .map(|h| h.join(relative))
        .filter(|d| d.is_dir())
        .collect()
}

impl Drop for Node {
    fn drop(&mut self) {
        // Pods a failed test left, removed as the kubelet removes them (StopPodSandbox then
        // RemovePodSandbox: their shims exit and take their sockets along). Killing their tasks
        // with `ctr` behind CRI's back, as containerd's own teardown does, left each pod's shim
        // socket in /run/containerd/s.
        for sandbox in self.sandboxes().unwrap_or_default() {
            let _ = self.remove_sandbox(sandbox.id);
        }
        drop(self.containerd.take());
        // Deepest first: what a failed test left, then the node's own parent.
        let mut left = self.cgroups_left();
        left.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in left.into_iter().chain(cgroup_dirs(&self.cgroup_parent)) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Where the kubelet mounts a pod's service account token.
pub const SERVICE_ACCOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The token volume's name (the kubelet's is `kube-api-access-<random>`).
const TOKEN_VOLUME: &str = "kube-api-access";

/// What a pod's service account gets from the node: the API server's variables
/// (`KUBERNETES_SERVICE_HOST`/`_PORT`) and the directory holding `token`, `ca.crt` and
/// `namespace`.
#[derive(Debug, Clone)]
pub struct ApiAccess {
    /// The variables every container gets.
    pub env: Vec<(String, String)>,
    /// The account's files, mounted read-only at [`SERVICE_ACCOUNT_PATH`].
    pub account_dir: PathBuf,
}

/// A pod the node runs.
#[derive(Debug)]
pub struct Pod {
    /// What it was made from.
    pub plan: PodPlan,
    /// Its sandbox's id.
    pub sandbox_id: String,
    /// Its containers' ids by name.
    pub containers: BTreeMap<String, String>,
    /// Its ConfigMap volumes by volume name.
    pub config: BTreeMap<String, ConfigMapVolume>,
    /// When each CRI step of [`Node::run_pod`] had finished, from its start.
    pub timeline: Vec<(String, Duration)>,
    log_directory: PathBuf,
}

impl Pod {
    /// The container's log as `kubectl logs` shows it: the messages of CRI's log lines.
    pub fn log(&self, container: &str) -> String {
        let path = self.log_directory.join(format!("{container}/0.log"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.splitn(4, ' ').nth(3))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The container's id; panics on a name the pod does not have.
    pub fn id(&self, container: &str) -> &str {
        self.containers
            .get(container)
            .unwrap_or_else(|| panic!("{} has no container {container}", self.plan.name))
    }
}

/// One run of an HTTP GET probe on 127.0.0.1, as the kubelet judges it: success is a status
/// from 200 to 399 within the probe's timeout.
pub fn probe_once(probe: &HttpProbe) -> Result<u16, String> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(probe.timeout))
        .build()
        .new_agent();
    let url = format!("http://127.0.0.1:{}{}", probe.port, probe.path);
    match agent.get(&url).call() {
        Ok(response) if (200..400).contains(&response.status().as_u16()) => {
            Ok(response.status().as_u16())
        }
        Ok(response) => Err(format!("{url}: HTTP {}", response.status())),
        Err(e) => Err(format!("{url}: {e}")),
    }
}

/// Runs `probe` at its period until it succeeds; after `failureThreshold` failures the kubelet
/// would restart the container: that is the error, with the last failure.
pub fn probe_until_success(probe: &HttpProbe) -> Result<Duration, String> {
    let started = Instant::now();
    let mut failures = 0;
    loop {
        let attempt = Instant::now();
        match probe_once(probe) {
            Ok(_) => return Ok(started.elapsed()),
            Err(e) => {
                failures += 1;
                if failures >= probe.failure_threshold {
                    return Err(format!("{failures} failures; the last: {e}"));
                }
            }
        }
        std::thread::sleep(probe.period.saturating_sub(attempt.elapsed()));
    }
}

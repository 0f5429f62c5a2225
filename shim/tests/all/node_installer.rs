//! The chart's node installer (`nodeInstaller.enabled`) run as a kubelet runs its DaemonSet's
//! pod: through CRI on the private containerd (the node's default runtime, runc), privileged,
//! its service account's token mounted and the API server's address in its env (an HTTPS
//! server of the test's that takes the node-label call), with the node's root — the hostPath
//! `/` — a temp directory holding a node's containerd config. Then a containerd started from
//! the config the installer wrote, with the shim it installed, runs the chart's pod. Also: a
//! second run changes nothing and restarts nothing; a config that does not parse is left as it
//! was and the node is not labelled.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use heart_testing::containerd::{PrivateContainerd, elf_rootfs};
use heart_testing::cri::node::{node_dist, probe_until_success};
use heart_testing::cri::{ApiAccess, Fixtures, Node, Pod, PodFailure, PodPlan};
use heart_testing::kube_api::KubeApi;
use k8s_cri::v1 as cri;

use crate::node::{APP, chart_pod, get_text, one_app_at_a_time, shim, status, url};

const INSTALL: &str = "install";
const CONFIG: &str = "etc/containerd/config.toml";
const INSTALLED_SHIM: &str = "usr/local/bin/containerd-shim-heart-v1";
const RESTARTS: &str = "restarted.log";

/// A node's root: the node's `sh` (for the restart command, run in this root) and, if given,
/// containerd's config.
fn node_root(config: Option<&str>) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a node root");
    let sh = std::fs::canonicalize("/bin/sh").expect("/bin/sh");
    elf_rootfs(root.path(), &sh);
    std::fs::create_dir_all(root.path().join("bin")).expect("bin");
    if !root.path().join("bin/sh").exists() {
        std::os::unix::fs::symlink(&sh, root.path().join("bin/sh")).expect("bin/sh");
    }
    if let Some(config) = config {
        std::fs::create_dir_all(root.path().join("etc/containerd")).expect("etc");
        std::fs::write(root.path().join(CONFIG), config).expect("config");
    }
    root
}

/// A node ready to run the installer's pod: the installer's image imported, the API server
/// reachable through the pod's service account.
fn installer_node(api: &KubeApi, account: &Path) -> Node {
    let mut node = Node::start(shim());
    node.containerd()
        .import_into("k8s.io", &node_dist().join("installer.oci.tar"));
    api.write_service_account(account, "heart")
        .expect("the service account's files");
    node.set_api(ApiAccess {
        env: api.service_env(),
        account_dir: account.to_owned(),
    });
    node
}

/// The installer's pod (ordinal `ordinal`), with the node's root at `root`.
fn installer_pod(root: &Path, ordinal: u32) -> PodPlan {
    let fixtures = Fixtures::load();
    let mut plan = PodPlan::from_rendered_kind(
        &fixtures.installer,
        "DaemonSet",
        &fixtures.namespace,
        ordinal,
    )
    .unwrap_or_else(|e| panic!("the installer's pod template: {e}"));
    let host = plan
        .host_paths
        .get_mut("host")
        .expect("the node's root volume");
    assert_eq!(
        host.as_path(),
        Path::new("/"),
        "the DaemonSet mounts the node's /"
    );
    *host = root.to_owned();
    plan
}

fn restarts(root: &Path) -> usize {
    std::fs::read_to_string(root.join(RESTARTS)).map_or(0, |log| log.lines().count())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_owned()
}

fn run_installer(node: &Node, plan: &PodPlan) -> Pod {
    let pod = node
        .run_pod(plan)
        .unwrap_or_else(|e| panic!("{e}\ncontainerd:\n{}", node.containerd().log()));
    let waiting = status(node, pod.id("installed"));
    assert_eq!(
        waiting.state,
        cri::ContainerState::ContainerRunning as i32,
        "{waiting:?}"
    );
    pod
}

#[test]
fn the_installer_configures_a_node_that_then_runs_the_charts_pod() {
    let api = KubeApi::start();
    let account = tempfile::tempdir().expect("dir");
    let node = installer_node(&api, account.path());
    // The node to be: its containerd's config (CRI on, no heart runtime) in the node's root.
    let state = PrivateContainerd::new_dir();
    let original = PrivateContainerd::config(state.path(), Some(&Node::cri_plugin(false)));
    let root = node_root(Some(&original));
    let plan = installer_pod(root.path(), 7);

    let pod = run_installer(&node, &plan);
    let log = pod.log(INSTALL);
    for line in [
        "shim: installed at /usr/local/bin/containerd-shim-heart-v1",
        "containerd config: runtime `heart` (io.containerd.heart.v1) added to /etc/containerd/config.toml",
        "containerd: restarted (`echo restarted >> /restarted.log`)",
        &format!(
            "node {}: labelled heart-display.io/shim=installed",
            hostname()
        ),
    ] {
        assert!(log.contains(line), "no {line:?} in {log}");
    }
    // The image's shim (the release build `cargo xtask node-fixtures` packs; it runs the
    // chart's pod below), executable, saying what it is.
    let installed = root.path().join(INSTALLED_SHIM);
    let mode = std::fs::metadata(&installed)
        .expect("shim")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    let version = std::process::Command::new(&installed)
        .arg("-v")
        .output()
        .expect("the installed shim runs");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains("containerd-shim-heart-v1:") && version.contains("Runtime: heart"),
        "{version}"
    );
    let written = std::fs::read_to_string(root.path().join(CONFIG)).expect("config");
    // The runtime's table, inserted after its sibling (runc's); every other byte as it was.
    let table = "\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.heart]\nruntime_type = \"io.containerd.heart.v1\"\n";
    assert_eq!(written.matches(table).count(), 1, "{written}");
    assert_eq!(
        written.replacen(table, "", 1),
        original,
        "the node's config was not kept byte for byte"
    );
    assert_eq!(restarts(root.path()), 1);
    let requests = api.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].line,
        format!("PATCH /api/v1/nodes/{} HTTP/1.1", hostname())
    );
    assert_eq!(requests[0].content_type, "application/merge-patch+json");
    let body: serde_json::Value = serde_json::from_str(&requests[0].body).expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({"metadata": {"labels": {"heart-display.io/shim": "installed"}}})
    );
    node.remove_pod(&pod).expect("the installer's pod removed");

    // Again (a restarted pod, an upgrade with the same shim): nothing changes, no restart.
    let shim_written = std::fs::metadata(&installed)
        .and_then(|m| m.modified())
        .expect("mtime");
    let pod = run_installer(&node, &plan);
    let log = pod.log(INSTALL);
    for line in [
        "shim: unchanged at /usr/local/bin/containerd-shim-heart-v1",
        "containerd config: unchanged",
        "containerd: not restarted (nothing changed)",
    ] {
        assert!(log.contains(line), "no {line:?} in {log}");
    }
    assert_eq!(
        std::fs::read_to_string(root.path().join(CONFIG)).expect("config"),
        written
    );
    assert_eq!(
        std::fs::metadata(&installed)
            .and_then(|m| m.modified())
            .expect("mtime"),
        shim_written
    );
    assert_eq!(restarts(root.path()), 1, "restarted with nothing changed");
    node.remove_pod(&pod).expect("the installer's pod removed");
    drop(node);

    // The node it configured: containerd on that config, the shim from where it put it.
    let _port = one_app_at_a_time();
    let configured = PrivateContainerd::start_in(
        state,
        root.path().join(CONFIG),
        root.path().join("usr/local/bin"),
    );
    let node = Node::on(configured);
    let plan = chart_pod();
    let pod = node
        .run_pod(&plan)
        .unwrap_or_else(|e| panic!("{e}\ncontainerd:\n{}", node.containerd().log()));
    let app = plan.container(APP).expect("the app");
    let startup = app.startup_probe.as_ref().expect("a startup probe");
    probe_until_success(startup).unwrap_or_else(|e| panic!("startup probe: {e}\n{}", pod.log(APP)));
    let port = *app.ports.get("http").expect("the http port");
    let symbol = get_text(&url(port, "/api/symbol?bpm=59"));
    assert!(symbol.contains('♡'), "{symbol}");
    node.remove_pod(&pod).expect("the pod removed");
}

#[test]
fn a_config_the_installer_cannot_parse_is_left_untouched_and_the_node_not_labelled() {
    let api = KubeApi::start();
    let account = tempfile::tempdir().expect("dir");
    let node = installer_node(&api, account.path());
    let broken = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"\n  sandbox_image = \"x\"\n";
    let root = node_root(Some(broken));
    let plan = installer_pod(root.path(), 8);
    match node.run_pod(&plan) {
        Err(PodFailure::InitFailed {
            container,
            exit_code,
            log,
        }) => {
            assert_eq!((container.as_str(), exit_code), (INSTALL, 1), "{log}");
            assert!(
                log.contains("/etc/containerd/config.toml: containerd's config does not parse, so it is left untouched"),
                "{log}"
            );
        }
        Ok(_) => panic!("the installer passed on a broken config"),
        Err(e) => panic!("{e}"),
    }
    assert_eq!(
        std::fs::read_to_string(root.path().join(CONFIG)).expect("config"),
        broken
    );
    assert!(
        !root.path().join(INSTALLED_SHIM).exists(),
        "a shim was installed"
    );
    assert_eq!(restarts(root.path()), 0);
    assert_eq!(api.requests(), Vec::new(), "the node was labelled");
}

//! The node's compiled-code cache through CRI, as a kubelet runs the chart's pods: the first
//! pod on a node compiles its two Wasms (the validator and the app) in the shim, outside the
//! containers; the next pod compiles nothing; a tampered entry is refused and recompiled; the
//! app container maps its code from the one entry the shim mounted read-only, which its user
//! cannot write, and the cache directory is not in its file system at all.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use heart_host::runtime::node_cache::MOUNT_PATH;
use heart_testing::cri::node::probe_until_success;
use heart_testing::cri::{Node, Pod, PodPlan};

use crate::node::{APP, chart_pod, get_text, one_app_at_a_time, pid, shim, url};

/// `(compiled, hit)` lines of the shim's before-create step in containerd's log so far.
fn cache_lines(node: &Node) -> (usize, usize) {
    let log = node.containerd().log();
    (
        log.matches("node cache compiled:").count(),
        log.matches("node cache hit:").count(),
    )
}

fn ready(node: &Node, plan: &PodPlan) -> Pod {
    let pod = node
        .run_pod(plan)
        .unwrap_or_else(|e| panic!("{e}\ncontainerd:\n{}", node.containerd().log()));
    let startup = plan
        .container(APP)
        .and_then(|c| c.startup_probe.as_ref())
        .expect("a startup probe");
    probe_until_success(startup).unwrap_or_else(|e| panic!("startup probe: {e}\n{}", pod.log(APP)));
    pod
}

/// The app's `heart_component_loads_total{outcome}`, `None` when it has no such series.
fn loads(port: u16, outcome: &str) -> Option<String> {
    let metrics = get_text(&url(port, "/metrics"));
    let series = format!("heart_component_loads_total{{outcome=\"{outcome}\",");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series)?.rsplit_once("} ").map(|(_, v)| v))
        .map(str::to_owned)
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn the_second_pod_compiles_nothing_and_a_tampered_entry_is_recompiled() {
    let _port = one_app_at_a_time();
    let plan = chart_pod();
    let port = *plan
        .container(APP)
        .and_then(|c| c.ports.get("http"))
        .expect("the http port");
    let node = Node::start(shim());
    let cache = node.containerd().node_cache_dir();

    // The first pod: the shim compiled the validator's and the app's Wasm, once each.
    let pod = ready(&node, &plan);
    assert_eq!(cache_lines(&node), (2, 0), "{}", node.containerd().log());
    assert_eq!(
        loads(port, "node_cache").as_deref(),
        Some("1"),
        "{}",
        pod.log(APP)
    );
    assert_eq!(loads(port, "compiled"), None);
    let files = entries(&cache);
    assert_eq!(files.len(), 2, "{files:?}");
    let dir_mode = std::fs::metadata(&cache)
        .expect("the cache dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700, "{}", cache.display());
    for file in &files {
        let meta = std::fs::metadata(file).expect("an entry");
        assert_eq!(
            (meta.uid(), meta.mode() & 0o777),
            (0, 0o444),
            "{}",
            file.display()
        );
    }

    // Inside the app container: the cache directory is not in its file system; the one entry
    // its code is mapped from is mounted read-only, and its user cannot write it.
    let app = pid(&node, pod.id(APP));
    let root = PathBuf::from(format!("/proc/{app}/root"));
    assert!(
        !root
            .join(cache.strip_prefix("/").expect("absolute"))
            .exists(),
        "the node cache is visible in the container"
    );
    let mounted = root.join(MOUNT_PATH.trim_start_matches('/'));
    let inode = |p: &Path| std::fs::metadata(p).map(|m| (m.dev(), m.ino())).ok();
    let entry = files
        .iter()
        .find(|f| inode(f) == inode(&mounted))
        .unwrap_or_else(|| panic!("{} is none of {files:?}", mounted.display()));
    let mountinfo = std::fs::read_to_string(format!("/proc/{app}/mountinfo")).expect("mountinfo");
    let line = mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(MOUNT_PATH))
        .unwrap_or_else(|| panic!("no mount at {MOUNT_PATH}: {mountinfo}"));
    let options = line.split(' ').nth(5).unwrap_or_default();
    assert!(options.split(',').any(|o| o == "ro"), "{line}");
    let maps = std::fs::read_to_string(format!("/proc/{app}/maps")).expect("maps");
    assert!(
        maps.lines()
            .any(|l| l.ends_with(MOUNT_PATH) && l.contains(" r-xp ")),
        "the app's code is not mapped from the entry ({}): {maps}",
        entry.display()
    );
    let status = heart_testing::process::status(app).expect("the app's status");
    let write = std::process::Command::new("setpriv")
        .arg(format!("--reuid={}", status.ruid))
        .arg(format!("--regid={}", status.rgid))
        .args(["--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        .args(["sh", "-c", "printf x >> \"$0\""])
        .arg(&mounted)
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&write.stderr);
    assert!(
        !write.status.success()
            && (stderr.contains("Permission denied") || stderr.contains("Read-only file system")),
        "the container's user wrote the cache entry through {}: {stderr}",
        mounted.display()
    );
    node.remove_pod(&pod).expect("the first pod removed");

    // The second pod compiles nothing: both entries found, the app maps its code.
    let pod = ready(&node, &plan);
    assert_eq!(cache_lines(&node), (2, 2), "{}", node.containerd().log());
    assert_eq!(loads(port, "node_cache").as_deref(), Some("1"));
    assert_eq!(entries(&cache), files);
    node.remove_pod(&pod).expect("the second pod removed");

    // A tampered entry (one byte of code changed, as root could) is refused and recompiled.
    for file in &files {
        let mut bytes = std::fs::read(file).expect("an entry");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(file, bytes).expect("tampering as root");
    }
    let pod = ready(&node, &plan);
    let log = node.containerd().log();
    assert_eq!(cache_lines(&node), (4, 2), "{log}");
    assert_eq!(log.matches("(1 bad entries refused)").count(), 2, "{log}");
    assert_eq!(loads(port, "node_cache").as_deref(), Some("1"));
    let symbol = get_text(&url(port, "/api/symbol?bpm=59"));
    assert!(symbol.contains('♡'), "{symbol}");
    assert_eq!(entries(&cache).len(), 2);
    node.remove_pod(&pod).expect("the third pod removed");
}

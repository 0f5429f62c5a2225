//! heart-display patch: whether the kernel's OOM killer ended a container, from its memory
//! cgroup's `oom_kill` counter (cgroup v1 `memory.oom_control`, v2 `memory.events`), so the shim
//! can publish `/tasks/oom` before `/tasks/exit` — what containerd's CRI needs to report the
//! exit reason `OOMKilled`, as runc's shim does from the same counter.

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

/// A container's OOM-kill counter, read when it started.
#[derive(Debug)]
pub(super) struct OomCounter {
    file: PathBuf,
    at_start: u64,
}

impl OomCounter {
    /// The counter of the container whose bundle is `bundle`, if its spec names a cgroupfs
    /// path (a systemd `slice:prefix:name` is not read here) whose memory controller is found.
    pub(super) fn of_bundle(bundle: &Path) -> Option<Self> {
        let spec = Spec::load(bundle.join("config.json")).ok()?;
        let path = spec.linux().as_ref()?.cgroups_path().clone()?;
        let relative = path.to_str()?.trim_start_matches('/').to_owned();
        if relative.contains(':') {
            return None;
        }
        let root = Path::new("/sys/fs/cgroup");
        let candidates = [
            root.join("memory").join(&relative).join("memory.oom_control"),
            root.join(&relative).join("memory.events"),
        ];
        let file = candidates.into_iter().find(|f| f.is_file())?;
        let at_start = read(&file)?;
        Some(Self { file, at_start })
    }

    /// Whether the OOM killer killed a process of the container since it started.
    pub(super) fn killed(&self) -> bool {
        read(&self.file).is_some_and(|now| now > self.at_start)
    }
}

/// The `oom_kill` line of `file`.
fn read(file: &Path) -> Option<u64> {
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

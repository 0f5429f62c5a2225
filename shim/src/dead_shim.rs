//! `containerd-shim-heart-v1 … delete`: what containerd runs, in the bundle, once a shim has
//! died (SIGKILL, the OOM killer) without deleting its containers. runwasi's shimkit answers it
//! with an exit status and nothing more, which left the dead shim's containers — their
//! processes, cgroups and state — behind (`RemovePodSandbox` then left every container cgroup of
//! the pod). As runc's `delete --force` does for containerd's Go shims, this deletes the
//! container the call names from the runtime's state: its processes are killed and its cgroups
//! and state removed. The shim's socket is removed by the patched containerd-shim
//! (third_party/containerd-shim-0.8.0.patch).

use std::path::{Path, PathBuf};

/// Where runwasi keeps container state (`DEFAULT_CONTAINER_ROOT_DIR` joined with the shim's name,
/// unless the runtime options name a root), per namespace.
const STATE_ROOT: &str = "/run/containerd";

/// The `-namespace` and `-id` of a `delete` call, if `args` (the shim's arguments, without the
/// program name) are one.
pub fn delete_call(args: &[String]) -> Option<(String, String)> {
    if args.last().map(String::as_str) != Some("delete") {
        return None;
    }
    let flag = |name: &str| {
        let at = args
            .iter()
            .position(|a| a == name || a == &format!("-{name}"))?;
        args.get(at + 1).cloned()
    };
    Some((flag("-namespace")?, flag("-id")?))
}

/// The container's state directory for shim `shim_name`, as runwasi lays it out: the runtime
/// options' `root` in `bundle/options.json` if set, else [`STATE_ROOT`]/`shim_name`, then the
/// namespace and the id.
pub fn state_dir(bundle: &Path, shim_name: &str, namespace: &str, id: &str) -> PathBuf {
    let root = std::fs::read_to_string(bundle.join("options.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|options| options["root"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| Path::new(STATE_ROOT).join(shim_name));
    root.join(namespace).join(id)
}

/// Deletes the container whose state is in `dir`, by force (its processes killed, its cgroups
/// and state removed); nothing when no state is there (the shim had deleted it itself).
pub fn delete_by_force(dir: &Path) -> Result<(), Box<libcontainer::error::LibcontainerError>> {
    if !dir.join("state.json").is_file() {
        return Ok(());
    }
    let mut container =
        libcontainer::container::Container::load(dir.to_owned()).map_err(Box::new)?;
    container.delete(true).map_err(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_delete_call_names_its_namespace_and_id() {
        let call = args(
            "-namespace k8s.io -address /run/c.sock -publish-binary /bin/containerd -id abc -bundle /b delete",
        );
        assert_eq!(delete_call(&call), Some(("k8s.io".into(), "abc".into())));
        assert_eq!(delete_call(&args("-namespace k8s.io -id abc start")), None);
        assert_eq!(
            delete_call(&args("-namespace k8s.io delete")),
            None,
            "no id"
        );
    }

    #[test]
    fn the_state_lives_under_the_options_root_or_runwasis_default() {
        let bundle = tempfile::tempdir().expect("a bundle dir");
        assert_eq!(
            state_dir(bundle.path(), "heart", "k8s.io", "abc"),
            Path::new("/run/containerd/heart/k8s.io/abc")
        );
        std::fs::write(
            bundle.path().join("options.json"),
            r#"{"root":"/var/run/x"}"#,
        )
        .expect("options");
        assert_eq!(
            state_dir(bundle.path(), "heart", "k8s.io", "abc"),
            Path::new("/var/run/x/k8s.io/abc")
        );
    }

    #[test]
    fn no_state_is_nothing_to_delete() {
        let dir = tempfile::tempdir().expect("a dir");
        assert!(delete_by_force(dir.path()).is_ok());
    }
}

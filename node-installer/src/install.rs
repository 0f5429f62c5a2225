//! The installer's steps in order, each saying what it did: containerd's config read and its
//! change worked out (a config that cannot be changed stops everything before anything is
//! written), the shim, the config written, containerd's restart (only when either changed),
//! the node label. A step that fails stops the rest: such a node is never labelled.

use std::path::{Path, PathBuf};

use crate::containerd_config::{self, ConfigError};
use crate::host_command::{self, HostCommandError};
use crate::node_label::{InCluster, LabelError};
use crate::shim_binary;

/// The shim's file name on the node.
pub const SHIM_NAME: &str = "containerd-shim-heart-v1";

/// What to install where.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The node's root file system, as mounted in this container.
    pub host_root: PathBuf,
    /// The shim binary in this image.
    pub shim: PathBuf,
    /// The node's directory for the shim (on containerd's PATH).
    pub shim_dir: PathBuf,
    /// containerd's config on the node.
    pub containerd_config: PathBuf,
    /// The CRI runtime handler (the RuntimeClass's `handler`).
    pub handler: String,
    /// Run on the node when something changed.
    pub restart_command: String,
    /// This node's name and the label to set on it.
    pub label: Option<(String, String, String)>,
}

/// A failed step.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The node path.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// containerd's config.
    #[error("{path}: {source}")]
    Config {
        /// The node path.
        path: String,
        /// Why.
        source: ConfigError,
    },
    /// The restart.
    #[error(transparent)]
    Restart(#[from] HostCommandError),
    /// The label.
    #[error(transparent)]
    Label(#[from] LabelError),
}

/// `path` (absolute on the node) under the node's root as mounted here.
fn on_node(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// Runs the plan, printing each step's outcome to `out`.
pub fn run(plan: &Plan, out: &mut dyn FnMut(String)) -> Result<(), InstallError> {
    // Read while this process still sees its own files (the restart enters the node's root).
    let access = plan
        .label
        .as_ref()
        .map(|_| InCluster::from_env(Path::new(crate::node_label::SERVICE_ACCOUNT_DIR)));

    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| InstallError::Io { path, source }
    };
    // The config first: one that cannot be changed safely stops the run before anything is
    // written.
    let config_path = &plan.containerd_config;
    let config_file = on_node(&plan.host_root, config_path);
    let text = match std::fs::read_to_string(&config_file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(config_path)(e)),
    };
    let new = containerd_config::with_runtime(&text, &plan.handler).map_err(|source| {
        InstallError::Config {
            path: config_path.display().to_string(),
            source,
        }
    })?;

    let shim_path = plan.shim_dir.join(SHIM_NAME);
    let shim_changed = shim_binary::install(&plan.shim, &on_node(&plan.host_root, &shim_path))
        .map_err(io(&shim_path))?;
    out(format!(
        "shim: {} {}",
        if shim_changed {
            "installed at"
        } else {
            "unchanged at"
        },
        shim_path.display()
    ));

    let config_changed = new.is_some();
    if let Some(new) = new {
        if let Some(dir) = config_file.parent() {
            std::fs::create_dir_all(dir).map_err(io(config_path))?;
        }
        let tmp = config_file.with_extension("toml.heart-new");
        std::fs::write(&tmp, new)
            .and_then(|()| std::fs::rename(&tmp, &config_file))
            .map_err(io(config_path))?;
        out(format!(
            "containerd config: runtime `{}` ({}) added to {}",
            plan.handler,
            containerd_config::RUNTIME_TYPE,
            config_path.display()
        ));
    } else {
        out(format!(
            "containerd config: unchanged ({} has runtime `{}`)",
            config_path.display(),
            plan.handler
        ));
    }

    if shim_changed || config_changed {
        host_command::run_in_root(&plan.host_root, &plan.restart_command)?;
        out(format!(
            "containerd: restarted (`{}`)",
            plan.restart_command
        ));
    } else {
        out("containerd: not restarted (nothing changed)".to_owned());
    }

    match (&plan.label, access) {
        (Some((node, key, value)), Some(Ok(access))) => {
            access.label(node, key, value)?;
            out(format!("node {node}: labelled {key}={value}"));
        }
        (Some((node, _, _)), Some(Err(e))) => {
            out(format!("node {node}: not labelled"));
            return Err(e.into());
        }
        _ => out("node: not labelled (no node name given)".to_owned()),
    }
    Ok(())
}

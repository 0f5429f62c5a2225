//! Running a command on the node (restarting containerd): the installer's process enters the
//! node's root file system (`chroot`, so the node's own `sh` and `systemctl` run) as its last
//! file-system step.

use std::path::Path;

/// Why the command could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum HostCommandError {
    /// Entering the node's root failed.
    #[error("entering the node's root {root}: {source}")]
    Chroot {
        /// The node's root as mounted here.
        root: String,
        /// The failure.
        source: nix::Error,
    },
    /// The command could not start or exited non-zero.
    #[error("`{command}` on the node: {reason}")]
    Failed {
        /// The command.
        command: String,
        /// Its exit status or the start error.
        reason: String,
    },
}

/// Enters `root` (for good: this process sees only the node's files afterwards) and runs
/// `command` there with `/bin/sh -c`.
pub fn run_in_root(root: &Path, command: &str) -> Result<(), HostCommandError> {
    nix::unistd::chroot(root)
        .and_then(|()| nix::unistd::chdir("/"))
        .map_err(|source| HostCommandError::Chroot {
            root: root.display().to_string(),
            source,
        })?;
    let failed = |reason: String| HostCommandError::Failed {
        command: command.to_owned(),
        reason,
    };
    let status = std::process::Command::new("/bin/sh")
        .args(["-c", command])
        .status()
        .map_err(|e| failed(e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(status.to_string()))
    }
}

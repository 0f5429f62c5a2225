//! The shim binary on the node: written only when its bytes differ, through a new file renamed
//! into place, so containerd never starts half a binary.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Makes `target` a copy of `source` (mode 0755); true if it wrote.
pub fn install(source: &Path, target: &Path) -> std::io::Result<bool> {
    let wanted = std::fs::read(source)?;
    if std::fs::read(target).is_ok_and(|have| have == wanted) {
        return Ok(false);
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = target.with_extension("heart-new");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o755)
        .open(&tmp)?;
    file.write_all(&wanted)?;
    file.sync_all()?;
    std::fs::rename(&tmp, target)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn written_once_then_left_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let source = dir.path().join("shim");
        std::fs::write(&source, b"\x7fELF v1").expect("write");
        let target = dir
            .path()
            .join("host/usr/local/bin/containerd-shim-heart-v1");
        assert!(install(&source, &target).expect("installs"));
        let mode = std::fs::metadata(&target)
            .expect("there")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert!(
            !install(&source, &target).expect("runs"),
            "a second run wrote"
        );
        std::fs::write(&source, b"\x7fELF v2").expect("write");
        assert!(install(&source, &target).expect("updates"));
        assert_eq!(std::fs::read(&target).expect("read"), b"\x7fELF v2");
    }
}

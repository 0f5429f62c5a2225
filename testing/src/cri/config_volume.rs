//! A ConfigMap volume as the kubelet's atomic writer lays it out: the data in a timestamped
//! directory (`..2026_12_03_16_30_00.123456789`), a `..data` symlink to it, and one symlink per
//! key (`love-level → ..data/love-level`). An update writes a new directory and swaps `..data`
//! with one `rename`, so a reader sees the old data or the new, never a mix.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};

/// One ConfigMap volume directory on the node.
#[derive(Debug)]
pub struct ConfigMapVolume {
    dir: PathBuf,
    /// The files' group: the pod's `fsGroup`, as the kubelet sets volume ownership.
    group: Option<u32>,
    keys: Vec<String>,
    generation: u32,
}

impl ConfigMapVolume {
    /// Writes `data` into `dir` (created) in the atomic-writer layout.
    pub fn create(
        dir: &Path,
        data: &BTreeMap<String, String>,
        group: Option<u32>,
    ) -> io::Result<ConfigMapVolume> {
        std::fs::create_dir_all(dir)?;
        let mut volume = ConfigMapVolume {
            dir: dir.to_owned(),
            group,
            keys: Vec::new(),
            generation: 0,
        };
        volume.update(data)?;
        Ok(volume)
    }

    /// The volume's directory (the container's mount source).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces the data as the kubelet does when the ConfigMap changes.
    pub fn update(&mut self, data: &BTreeMap<String, String>) -> io::Result<()> {
        self.generation += 1;
        let stamp = chrono::Utc::now().format("..%Y_%m_%d_%H_%M_%S.%f");
        // The generation keeps two updates within one clock tick apart.
        let name = format!("{stamp}{}", self.generation);
        let payload = self.dir.join(&name);
        std::fs::create_dir(&payload)?;
        for (key, value) in data {
            let file = payload.join(key);
            std::fs::write(&file, value)?;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
            std::os::unix::fs::chown(&file, None, self.group)?;
        }
        std::os::unix::fs::chown(&payload, None, self.group)?;
        let old = std::fs::read_link(self.dir.join("..data")).ok();
        let tmp = self.dir.join("..data_tmp");
        let _ = std::fs::remove_file(&tmp);
        symlink(&name, &tmp)?;
        std::fs::rename(&tmp, self.dir.join("..data"))?;
        for key in data.keys() {
            let link = self.dir.join(key);
            if std::fs::symlink_metadata(&link).is_err() {
                symlink(Path::new("..data").join(key), &link)?;
            }
        }
        for gone in self.keys.iter().filter(|k| !data.contains_key(*k)) {
            std::fs::remove_file(self.dir.join(gone))?;
        }
        self.keys = data.keys().cloned().collect();
        if let Some(old) = old {
            std::fs::remove_dir_all(self.dir.join(old))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_update_swaps_the_data_link_and_drops_the_old_payload_and_keys() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("config");
        let mut volume =
            ConfigMapVolume::create(&dir, &data(&[("bpm", "72"), ("color", "red")]), None)
                .expect("written");
        let first = std::fs::read_link(dir.join("..data")).expect("..data");
        assert!(first.to_string_lossy().starts_with("..20"), "{first:?}");
        assert_eq!(
            std::fs::read_link(dir.join("bpm")).expect("key link"),
            Path::new("..data/bpm")
        );
        volume.update(&data(&[("bpm", "90")])).expect("updated");
        let second = std::fs::read_link(dir.join("..data")).expect("..data");
        assert_ne!(first, second);
        assert_eq!(std::fs::read_to_string(dir.join("bpm")).expect("bpm"), "90");
        assert!(!dir.join("color").exists(), "the removed key's link");
        assert!(!dir.join(&first).exists(), "the old payload");
    }
}

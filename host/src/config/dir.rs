//! A config directory: one file per key (`love-level`, `bpm`, `color`, `size`,
//! `alert-threshold`), as a Kubernetes ConfigMap is mounted. The listing and reading happen
//! here; what the files mean is heart-core's [`config_files`]. Every read follows the visible
//! names afresh, so a swapped `..data` symlink is seen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use heart_core::config_files;

/// Why a config directory was rejected. Every problem in the directory is listed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigDirError {
    /// The directory could not be listed.
    #[error("reading config directory {path}: {source}")]
    List {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Some entries are invalid.
    #[error("config directory {path} is invalid: {}", .problems.join("; "))]
    Invalid {
        /// The directory.
        path: PathBuf,
        /// One message per bad entry, naming the key and value.
        problems: Vec<String>,
    },
}

/// The values found in a config directory, by application-variable name (`love_level`, …).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigDirValues(pub BTreeMap<String, String>);

/// Reads and validates `dir`: every visible file must be a known key holding a valid value
/// (the rules are heart-core's [`heart_core::config_files::check`]).
pub fn read(dir: &Path) -> Result<ConfigDirValues, ConfigDirError> {
    let list_error = |source| ConfigDirError::List {
        path: dir.to_owned(),
        source,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        names.push(
            entry
                .map_err(list_error)?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    config_files::check(names, |name| {
        std::fs::read(dir.join(name)).map_err(|e| e.to_string())
    })
    .map(ConfigDirValues)
    .map_err(|problems| ConfigDirError::Invalid {
        path: dir.to_owned(),
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, value) in files {
            std::fs::write(dir.path().join(name), value).expect("write");
        }
        dir
    }

    #[test]
    fn valid_files_map_to_variable_names_trimmed() {
        let dir = dir_with(&[("love-level", "9\n"), ("color", "hotpink")]);
        let values = read(dir.path()).expect("valid");
        assert_eq!(values.0["love_level"], "9");
        assert_eq!(values.0["color"], "hotpink");
    }

    #[test]
    fn every_bad_entry_is_reported_with_key_and_value() {
        let dir = dir_with(&[
            ("love-level", "11"),
            ("bpm", "fast"),
            ("mood", "x"),
            ("size", "64"),
        ]);
        let err = read(dir.path()).expect_err("invalid");
        let text = err.to_string();
        assert!(
            text.contains("`love-level`: love level `11` is out of range 1..=10"),
            "{text}"
        );
        assert!(
            text.contains("`bpm`: bpm `fast` is not a whole number; expected 30..=220"),
            "{text}"
        );
        assert!(text.contains("unknown key `mood`"), "{text}");
    }

    #[test]
    fn hidden_kubernetes_entries_are_skipped() {
        let dir = dir_with(&[("bpm", "90")]);
        std::fs::create_dir(dir.path().join("..2026_11_22")).expect("mkdir");
        std::fs::write(dir.path().join("..2026_11_22/junk"), "x").expect("write");
        assert_eq!(read(dir.path()).expect("valid").0.len(), 1);
    }

    #[test]
    fn variable_style_names_are_not_file_names() {
        let dir = dir_with(&[("love_level", "9")]);
        assert!(
            read(dir.path()).is_err(),
            "files use the ConfigMap key form love-level"
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let err = read(Path::new("/nonexistent/heart")).expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("reading config directory /nonexistent/heart")
        );
    }
}

//! A config directory: one file per key (`love-level`, `bpm`, `color`, `size`,
//! `alert-threshold`), as a Kubernetes ConfigMap is mounted. Kubernetes updates such a mount by
//! writing a new hidden `..<timestamp>` directory and swapping the `..data` symlink, so entries
//! starting with `.` are skipped and every read follows the visible names afresh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use heart_core::HeartConfig;
use heart_core::config::Field;

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

/// Reads and validates `dir`: every visible file must be a known key holding a valid value.
pub fn read(dir: &Path) -> Result<ConfigDirValues, ConfigDirError> {
    let list_error = |source| ConfigDirError::List {
        path: dir.to_owned(),
        source,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let name = entry
            .map_err(list_error)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    let mut problems = Vec::new();
    let mut values = BTreeMap::new();
    for name in names {
        let Some(field) = Field::from_key(&name).filter(|f| f.file_name() == name) else {
            let accepted: Vec<&str> = Field::CONFIG.iter().map(|f| f.file_name()).collect();
            problems.push(format!(
                "unknown key `{name}`; accepted keys: {}",
                accepted.join(", ")
            ));
            continue;
        };
        let path = dir.join(&name);
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    problems.push(format!("`{name}` is not UTF-8 text"));
                    continue;
                }
            },
            Err(e) => {
                problems.push(format!("reading `{name}`: {e}"));
                continue;
            }
        };
        let mut probe = HeartConfig::default();
        match probe.set(field, &text) {
            Ok(()) => {
                values.insert(field.variable().to_owned(), text.trim().to_owned());
            }
            Err(e) => problems.push(format!("`{name}`: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(ConfigDirValues(values))
    } else {
        Err(ConfigDirError::Invalid {
            path: dir.to_owned(),
            problems,
        })
    }
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

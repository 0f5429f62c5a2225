//! The config-directory form of a heart config: one file per key (`love-level`, `bpm`, `color`,
//! `size`, `alert-threshold`), as a Kubernetes ConfigMap is mounted. Kubernetes updates such a
//! mount by writing a hidden `..<timestamp>` directory and swapping the `..data` symlink, so
//! names starting with `.` are skipped.
//!
//! This is the pure check shared by every reader of such a directory (the host's
//! `validate-config` and hot reload, and the Wasm pre-start validator): the caller lists the
//! names and reads the files, this module decides what they mean.

use std::collections::BTreeMap;

use crate::config::{Field, HeartConfig};

/// Checks the files of a config directory. `names` are the directory's entry names; `read`
/// returns a file's bytes, or the text of the error that stopped the read.
///
/// On success: the values by application-variable name (`love_level`, …), trimmed. Otherwise
/// one message per bad entry, naming the key, the value and what is accepted.
pub fn check<N, R>(names: N, mut read: R) -> Result<BTreeMap<String, String>, Vec<String>>
where
    N: IntoIterator<Item = String>,
    R: FnMut(&str) -> Result<Vec<u8>, String>,
{
    let mut names: Vec<String> = names.into_iter().filter(|n| !is_hidden(n)).collect();
    names.sort();
    let mut problems = Vec::new();
    let mut values = BTreeMap::new();
    for name in names {
        let Some(field) = field_of(&name) else {
            problems.push(format!(
                "unknown key `{name}`; accepted keys: {}",
                accepted_keys()
            ));
            continue;
        };
        let text = match read(&name).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                problems.push(format!("`{name}` is not UTF-8 text"));
                continue;
            }
            Err(e) => {
                problems.push(format!("reading `{name}`: {e}"));
                continue;
            }
        };
        let value = text.trim();
        match HeartConfig::default().set(field, value) {
            Ok(()) => {
                values.insert(field.variable().to_owned(), value.to_owned());
            }
            Err(e) => problems.push(format!("`{name}`: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

/// Whether a directory entry is Kubernetes' bookkeeping (`..data`, `..2026_…`) or otherwise
/// hidden, and so not a key.
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// The config field a file name stands for: only the file-name form (`love-level`) counts.
fn field_of(name: &str) -> Option<Field> {
    Field::from_key(name).filter(|f| f.file_name() == name)
}

/// The accepted file names, comma-separated.
fn accepted_keys() -> String {
    let names: Vec<&str> = Field::CONFIG.iter().map(|f| f.file_name()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_files(files: &[(&str, &[u8])]) -> Result<BTreeMap<String, String>, Vec<String>> {
        let names = files.iter().map(|(n, _)| (*n).to_owned());
        check(names, |name| {
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, bytes)| bytes.to_vec())
                .ok_or_else(|| "gone".to_owned())
        })
    }

    #[test]
    fn valid_files_map_to_variable_names_trimmed() {
        let values = check_files(&[("love-level", b"9\n"), ("color", b"hotpink")]).expect("ok");
        assert_eq!(values["love_level"], "9");
        assert_eq!(values["color"], "hotpink");
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn every_bad_entry_is_reported_with_key_value_and_range() {
        let problems = check_files(&[
            ("love-level", b"11\n"),
            ("bpm", b"fast"),
            ("mood", b"x"),
            ("size", b"\xff"),
            ("color", b"red"),
        ])
        .expect_err("invalid");
        assert_eq!(
            problems,
            [
                "`bpm`: bpm `fast` is not a whole number; expected 30..=220",
                "`love-level`: love level `11` is out of range 1..=10",
                "unknown key `mood`; accepted keys: love-level, bpm, color, size, alert-threshold",
                "`size` is not UTF-8 text",
            ]
        );
    }

    #[test]
    fn hidden_entries_and_read_errors() {
        assert_eq!(
            check_files(&[("..data", b"x"), (".x", b"y")]),
            Ok(BTreeMap::new())
        );
        let problems = check(["bpm".to_owned()], |_| Err("permission denied".to_owned()))
            .expect_err("unreadable");
        assert_eq!(problems, ["reading `bpm`: permission denied"]);
    }

    #[test]
    fn variable_style_names_are_not_file_names() {
        let problems = check_files(&[("love_level", b"9")]).expect_err("variable form");
        assert!(
            problems[0].starts_with("unknown key `love_level`"),
            "{problems:?}"
        );
    }
}

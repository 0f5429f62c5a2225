//! containerd's `config.toml` with the heart runtime in it. The runtime's table is the only
//! thing written: toml_edit keeps every other byte (comments, order, other runtimes, settings
//! such as `restrict_oom_score_adj`) as it was.

use toml_edit::{DocumentMut, Item, Table, value};

/// The runtime type containerd starts `containerd-shim-heart-v1` for.
pub const RUNTIME_TYPE: &str = "io.containerd.heart.v1";

/// A config that cannot be changed safely.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML: left untouched.
    #[error("containerd's config does not parse, so it is left untouched: {0}")]
    Parse(String),
    /// A config version this installer does not know.
    #[error("containerd's config has `version = {0}`; supported: 1, 2 and 3")]
    Version(i64),
    /// A key on the way to the runtime table holds a value, not a table.
    #[error("containerd's config has `{0}` as a value where a table is expected; left untouched")]
    NotATable(String),
}

/// The path of the runtimes table for a config of `version` (containerd 1.x: 1 and 2; 2.x: 3).
fn runtimes_path(version: i64) -> Result<&'static [&'static str], ConfigError> {
    match version {
        1 => Ok(&["plugins", "cri", "containerd", "runtimes"]),
        2 => Ok(&[
            "plugins",
            "io.containerd.grpc.v1.cri",
            "containerd",
            "runtimes",
        ]),
        3 => Ok(&[
            "plugins",
            "io.containerd.cri.v1.runtime",
            "containerd",
            "runtimes",
        ]),
        other => Err(ConfigError::Version(other)),
    }
}

/// `text` (a `config.toml`; empty when there is none) with runtime `handler` of type
/// [`RUNTIME_TYPE`]; `None` when it already has exactly that.
pub fn with_runtime(text: &str, handler: &str) -> Result<Option<String>, ConfigError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| ConfigError::Parse(e.to_string()))?;
    let version = match doc.get("version").and_then(Item::as_integer) {
        Some(v) => v,
        // No version: a file with settings is version 1; an empty one becomes version 2.
        None if doc.is_empty() => {
            doc.insert("version", value(2));
            2
        }
        None => 1,
    };
    let mut table: &mut Table = doc.as_table_mut();
    let mut at = String::new();
    for key in runtimes_path(version)? {
        at = if at.is_empty() {
            (*key).to_owned()
        } else {
            format!("{at}.{key}")
        };
        let entry = table.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        table = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::NotATable(at.clone()))?;
    }
    let current = table
        .get(handler)
        .and_then(|t| t.get("runtime_type"))
        .and_then(Item::as_str);
    if current == Some(RUNTIME_TYPE) {
        return Ok(None);
    }
    match table.get_mut(handler).and_then(Item::as_table_mut) {
        Some(runtime) => {
            runtime.insert("runtime_type", value(RUNTIME_TYPE));
        }
        None => {
            let mut runtime = Table::new();
            runtime.insert("runtime_type", value(RUNTIME_TYPE));
            table.insert(handler, Item::Table(runtime));
        }
    }
    Ok(Some(doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOREIGN: &str = r#"# the node's own config
version = 2
root = "/var/lib/containerd"

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true   # nested node

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true
"#;

    #[test]
    fn a_foreign_config_is_kept_byte_for_byte_and_the_table_added() {
        let out = with_runtime(FOREIGN, "heart")
            .expect("ok")
            .expect("changed");
        assert!(out.starts_with(FOREIGN), "{out}");
        let added = &out[FOREIGN.len()..];
        assert_eq!(
            added.trim(),
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.heart]\nruntime_type = \"io.containerd.heart.v1\""
        );
        // A second run changes nothing.
        assert_eq!(with_runtime(&out, "heart").expect("ok"), None);
    }

    #[test]
    fn no_config_becomes_version_2_with_the_runtime() {
        let out = with_runtime("", "heart").expect("ok").expect("changed");
        let doc: DocumentMut = out.parse().expect("TOML");
        assert_eq!(doc["version"].as_integer(), Some(2));
        assert_eq!(
            doc["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["heart"]
                ["runtime_type"]
                .as_str(),
            Some(RUNTIME_TYPE)
        );
    }

    #[test]
    fn versions_1_and_3_get_their_own_plugin_paths() {
        let v1 = with_runtime("root = \"/x\"\n", "heart")
            .expect("ok")
            .expect("changed");
        assert!(
            v1.contains("[plugins.cri.containerd.runtimes.heart]"),
            "{v1}"
        );
        let v3 = with_runtime("version = 3\n", "heart")
            .expect("ok")
            .expect("changed");
        assert!(
            v3.contains("[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.heart]"),
            "{v3}"
        );
        let err = with_runtime("version = 9\n", "heart").expect_err("unknown version");
        assert_eq!(
            err.to_string(),
            "containerd's config has `version = 9`; supported: 1, 2 and 3"
        );
    }

    #[test]
    fn a_wrong_runtime_type_is_corrected_in_place() {
        let text = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.heart]\n  runtime_type = \"io.containerd.wasmtime.v1\"\n  # ours\n";
        let out = with_runtime(text, "heart").expect("ok").expect("changed");
        assert!(
            out.contains("runtime_type = \"io.containerd.heart.v1\""),
            "{out}"
        );
        assert!(out.contains("  # ours\n"), "{out}");
    }

    #[test]
    fn a_broken_or_odd_config_is_refused() {
        let err = with_runtime("version = 2\n[plugins\n", "heart").expect_err("not TOML");
        assert!(
            err.to_string()
                .starts_with("containerd's config does not parse"),
            "{err}"
        );
        let err = with_runtime("version = 2\nplugins = 1\n", "heart").expect_err("a value");
        assert!(err.to_string().contains("`plugins` as a value"), "{err}");
    }
}

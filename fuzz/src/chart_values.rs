//! Fuzzes the chart's `config` values on their way to the pre-start validator: what Helm's
//! schema check (`values.schema.json`, through boon — a port of the JSON Schema library Helm
//! itself uses) lets through, rendered into the ConfigMap as `templates/configmap.yaml` does
//! (`| quote`), must be accepted by the validator the init container runs
//! (`heart_core::config_files::check`, what `heart_validate` and the host's reload use). A value
//! the schema passes and the validator refuses would install cleanly and then hold every pod in
//! `Init:Error`.
//!
//! Input: lines of `key=value` under `config` (`loveLevel`, `bpm`, `color`, `size`,
//! `alertThreshold`, or any other key); a value that parses as JSON is that JSON (`72`, `72.0`,
//! `"crimson"`, `true`), otherwise it is a string.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use heart_core::config_files;
use serde_json::{Map, Value};

const SCHEMA: &str = include_str!("../../charts/heart-display/values.schema.json");

/// The schema of `config`, compiled once.
fn config_schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA_INDEX: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    SCHEMA_INDEX.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("values.schema.json is JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("values.schema.json", schema)
            .expect("the schema is added");
        let index = compiler
            .compile("values.schema.json#/properties/config", &mut schemas)
            .expect("the chart's schema compiles");
        (schemas, index)
    })
}

/// The ConfigMap key `templates/configmap.yaml` writes a `config` value under.
fn file_of(key: &str) -> Option<&'static str> {
    Some(match key {
        "loveLevel" => "love-level",
        "bpm" => "bpm",
        "color" => "color",
        "size" => "size",
        "alertThreshold" => "alert-threshold",
        _ => return None,
    })
}

/// `value | quote` as Helm renders it: a string as it is, a number as Go prints it (a whole
/// float such as `72.0` as `72`).
fn quoted(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut config = Map::new();
    for line in text.lines() {
        if let Some((key, raw)) = line.split_once('=') {
            let value =
                serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.into()));
            config.entry(key.to_owned()).or_insert(value);
        }
    }
    let config = Value::Object(config);
    let (schemas, index) = config_schema();
    if schemas.validate(&config, *index).is_err() {
        return; // Helm refuses the install: nothing reaches a pod
    }
    let files: BTreeMap<&str, String> = config
        .as_object()
        .expect("an object")
        .iter()
        .map(|(key, value)| {
            let file = file_of(key).unwrap_or_else(|| panic!("the schema let `{key}` through"));
            (file, quoted(value))
        })
        .collect();
    let checked = config_files::check(files.keys().map(|f| (*f).to_owned()), |name| {
        Ok(files[name].clone().into_bytes())
    });
    if let Err(problems) = checked {
        panic!("the schema accepts {config} but the validator refuses it: {problems:?}");
    }
}

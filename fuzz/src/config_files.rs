//! Fuzzes the config-directory rules (a mounted ConfigMap) with arbitrary names and contents:
//! no input may panic; accepted values parse again; each problem is reported with its key.

use std::collections::BTreeMap;

use heart_core::config::Field;
use heart_core::{HeartConfig, config_files};

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    // Entries separated by NUL: `name` then `\x01` then the file's bytes.
    let entries: Vec<(String, Vec<u8>)> = data
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let at = entry.iter().position(|b| *b == 1)?;
            Some((
                String::from_utf8_lossy(&entry[..at]).into_owned(),
                entry[at + 1..].to_vec(),
            ))
        })
        .collect();
    let names = entries.iter().map(|(n, _)| n.clone());
    // A directory holds each name once: the first entry of a repeated name wins.
    let mut files: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (name, bytes) in &entries {
        files.entry(name.as_str()).or_insert(bytes.as_slice());
    }
    let result = config_files::check(names, |name| {
        files
            .get(name)
            .map(|bytes| bytes.to_vec())
            .ok_or_else(|| "gone".to_owned())
    });
    match result {
        Ok(values) => {
            for (variable, value) in &values {
                let field = Field::from_key(variable).expect("values are known variables");
                HeartConfig::default()
                    .set(field, value)
                    .expect("accepted values parse again");
            }
        }
        Err(problems) => assert!(!problems.is_empty() && problems.iter().all(|p| !p.is_empty())),
    }
}

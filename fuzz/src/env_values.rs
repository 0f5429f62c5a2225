//! Fuzzes `SPIN_VARIABLE_*` environment values over the shipped `spin.toml`: no input may
//! panic; the values the host's start-up check accepts are the values the component accepts
//! (so an accepted start never turns into a `500` on every request), and a rejected value is
//! named in the message.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use heart_core::api;
use heart_manifest::manifest::Manifest;
use heart_manifest::variables;

const SPIN_TOML: &str = include_str!("../../spin.toml");

/// The shipped manifest, parsed once (parsing it per input would dominate every run).
fn shipped() -> &'static Manifest {
    static MANIFEST: OnceLock<Manifest> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        Manifest::parse(Path::new("spin.toml"), SPIN_TOML).expect("the shipped manifest")
    })
}

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let manifest = shipped();
    let text = String::from_utf8_lossy(data);
    // Lines of `NAME=VALUE`, as a process environment gives them.
    let env: BTreeMap<String, String> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let overrides = variables::env_overrides(&manifest.variables, |name| env.get(name).cloned());
    for (name, value) in &overrides {
        assert_eq!(env.get(&variables::env_name(name)), Some(value));
    }
    let app = variables::resolve_app(&manifest.variables, &BTreeMap::new(), &overrides)
        .expect("every shipped variable has a default");
    for component in manifest.component.values() {
        let values = variables::expand_component(&component.variables, &app, &manifest.variables)
            .expect("the shipped templates name declared variables");
        let start_check = variables::heart_settings(&values);
        let in_component = api::config_from_variables(|name| Ok(values.get(name).cloned()));
        match (start_check, in_component) {
            (Ok(config), Ok(served)) => assert_eq!(config, served),
            (Err(errors), Err(response)) => {
                assert_eq!(response.status, 500);
                // The component's message names the same first bad value as the check.
                let body: serde_json::Value =
                    serde_json::from_slice(&response.body).expect("errors are JSON");
                let message = body["error"].as_str().expect("an error message");
                assert!(message.contains(&errors[0].to_string()), "{message}");
            }
            (check, served) => panic!(
                "the start-up check and the component disagree: {check:?} vs {:?}",
                served.map_err(|r| r.status)
            ),
        }
    }
}

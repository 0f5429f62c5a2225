//! The built components must stay portable: only standard WASI interfaces plus
//! `wasi:config/store`, never a `spin:*` or `fermyon:*` import, and the right HTTP export.

use heart_manifest::world::{self, Binary};

use crate::support::{BUILDS, ENV_CONFIG_BUILDS, component};

/// The import and export names of the outermost component (what a host must provide and
/// may call); nested components and modules are the component's own business.
fn names(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    match world::read(wasm).expect("component parses") {
        Binary::Component(world) => (world.imports, world.exports),
        Binary::CoreModule => panic!("a core module, not a component"),
    }
}

#[test]
fn components_import_only_standard_wasi_and_config() {
    for (build, file) in BUILDS {
        let wasm = std::fs::read(component(file)).expect("reading component");
        let (imports, _) = names(&wasm);
        assert!(!imports.is_empty(), "{build}: found no imports at all");
        for import in &imports {
            assert!(
                !import.starts_with("spin:") && !import.starts_with("fermyon:"),
                "{build} imports {import}: the component must stay portable"
            );
            assert!(
                import.starts_with("wasi:"),
                "{build}: unexpected import {import}"
            );
        }
        assert!(
            imports
                .iter()
                .any(|i| i.starts_with("wasi:config/store@0.2.0-draft-2024-09-27")),
            "{build}"
        );
        assert!(
            !imports
                .iter()
                .any(|i| i.starts_with("wasi:http/outgoing-handler")),
            "{build}: no outbound HTTP"
        );
    }
}

#[test]
fn components_export_their_wasi_http_handler() {
    let expected = [
        ("wasi-0.2", "wasi:http/incoming-handler@0.2"),
        ("wasi-0.3", "wasi:http/handler@0.3"),
    ];
    for ((build, file), (_, export)) in BUILDS.into_iter().zip(expected) {
        let wasm = std::fs::read(component(file)).expect("reading component");
        let (_, exports) = names(&wasm);
        assert!(
            exports.iter().any(|e| e.starts_with(export)),
            "{build}: exports {exports:?}"
        );
    }
}

#[test]
fn the_env_config_builds_import_standard_wasi_and_no_config_store() {
    let expected = [
        ("wasi-0.2", "@0.2.", "wasi:http/incoming-handler@0.2"),
        ("wasi-0.3", "@0.", "wasi:http/handler@0.3"),
    ];
    for ((build, file), (of, version, export)) in ENV_CONFIG_BUILDS.into_iter().zip(expected) {
        let wasm = std::fs::read(component(file)).expect("reading component");
        let (imports, exports) = names(&wasm);
        let non_standard: Vec<&String> = imports
            .iter()
            .filter(|i| {
                !(i.starts_with("wasi:") && i.contains(version)) || i.starts_with("wasi:config/")
            })
            .collect();
        assert!(
            non_standard.is_empty(),
            "{build} (of {of}): a plain WASI host cannot provide {non_standard:?}"
        );
        assert!(
            imports
                .iter()
                .any(|i| i.starts_with("wasi:cli/environment@")),
            "{build}: reads no environment: {imports:?}"
        );
        assert!(
            exports.iter().any(|e| e.starts_with(export)),
            "{build}: exports {exports:?}"
        );
    }
}

//! Fuzzes `spin.toml` parsing and the variable layers with arbitrary text: no input may panic;
//! an accepted manifest's triggers name declared local components, its variables resolve or
//! fail with a message, and every component template expands or fails with a message.

use std::collections::BTreeMap;
use std::path::Path;

use heart_manifest::manifest::{Manifest, RouteDecl, SourceDecl};
use heart_manifest::variables;

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let manifest = match Manifest::parse(Path::new("spin.toml"), text) {
        Ok(manifest) => manifest,
        Err(e) => {
            assert!(
                e.to_string().starts_with("spin.toml")
                    || e.to_string().starts_with("parsing spin.toml")
            );
            return;
        }
    };
    assert_eq!(manifest.spin_manifest_version, 2);
    assert!(!manifest.trigger.http.is_empty());
    for trigger in &manifest.trigger.http {
        let component = &manifest.component[&trigger.component];
        assert!(matches!(component.source, SourceDecl::Path(_)));
        if let RouteDecl::Path(route) = &trigger.route {
            assert!(route.starts_with('/'));
        }
    }
    let app = match variables::resolve_app(&manifest.variables, &BTreeMap::new(), &BTreeMap::new())
    {
        Ok(app) => app,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    for (name, decl) in &manifest.variables {
        assert_eq!(
            app.get(name),
            decl.default.as_ref(),
            "defaults apply when nothing overrides"
        );
    }
    for component in manifest.component.values() {
        match variables::expand_component(&component.variables, &app, &manifest.variables) {
            Ok(values) => assert_eq!(values.len(), component.variables.len()),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

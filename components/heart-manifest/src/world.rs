//! What a component binary imports and exports at its top level — the names a host must
//! provide and may call, as Spin's locked app records them. Nested components and modules are
//! the component's own business and are skipped. Read without compiling anything.

use wasmparser::{Encoding, Parser, Payload};

/// A Wasm binary, by what its outermost layer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binary {
    /// A core Wasm module (not a component).
    CoreModule,
    /// A component, with its top-level import and export names.
    Component(ComponentWorld),
}

/// A component's top-level import and export names (e.g. `wasi:http/incoming-handler@0.2.6`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentWorld {
    /// What a host must provide.
    pub imports: Vec<String>,
    /// What a host may call.
    pub exports: Vec<String>,
}

impl ComponentWorld {
    /// Whether some export's name starts with `prefix` (an interface without its patch
    /// version, e.g. `wasi:http/handler@0.3`).
    pub fn exports_one(&self, prefix: &str) -> bool {
        self.exports.iter().any(|e| e.starts_with(prefix))
    }
}

/// Why a binary could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a valid Wasm binary: {0}")]
pub struct WorldError(String);

/// Reads `wasm`'s outermost layer.
pub fn read(wasm: &[u8]) -> Result<Binary, WorldError> {
    let invalid = |e: wasmparser::BinaryReaderError| WorldError(e.to_string());
    let mut world = ComponentWorld::default();
    // Nesting below the outermost component: its sections are not ours to list.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(invalid)? {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } if depth == 0 => return Ok(Binary::CoreModule),
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    world
                        .imports
                        .push(import.map_err(invalid)?.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    world
                        .exports
                        .push(export.map_err(invalid)?.name.full_name().into_owned());
                }
            }
            Payload::End(_) if depth == 0 => break,
            Payload::End(_) => depth -= 1,
            _ => {}
        }
    }
    Ok(Binary::Component(world))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_module_is_told_apart_from_a_component() {
        // The smallest core module: magic and version 1.
        let module = b"\0asm\x01\0\0\0";
        assert_eq!(read(module).expect("valid"), Binary::CoreModule);
        // The smallest component: magic and the component layer's version.
        let component = b"\0asm\x0d\0\x01\0";
        assert_eq!(
            read(component).expect("valid"),
            Binary::Component(ComponentWorld::default())
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_problem() {
        let err = read(b"not wasm").expect_err("invalid");
        assert!(
            err.to_string().starts_with("not a valid Wasm binary"),
            "{err}"
        );
    }
}

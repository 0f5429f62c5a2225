//! What a Wasm binary is, from its top-level exports, without compiling it: a WASI HTTP
//! handler (0.2 or 0.3), a `wasi:cli` command, or something this host does not run.

use wasmparser::{Encoding, Parser, Payload};

use crate::handler::WasiHttpVersion;

/// The kinds of Wasm binary the host (and the shim) tells apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WasmKind {
    /// A component exporting a WASI HTTP handler: it is served.
    Http(WasiHttpVersion),
    /// A component exporting `wasi:cli/run@0.2`: it runs to completion.
    Command,
    /// A component that exports neither.
    OtherComponent {
        /// Its top-level export names.
        exports: Vec<String>,
    },
    /// A core Wasm module (not a component).
    CoreModule,
}

/// Why a binary could not be classified.
#[derive(Debug, thiserror::Error)]
pub enum WasmKindError {
    /// Not Wasm at all (wrong magic or version), or malformed.
    #[error("not a valid Wasm binary: {0}")]
    Invalid(String),
}

const HTTP_P2: &str = "wasi:http/incoming-handler@0.2";
const HTTP_P3: &str = "wasi:http/handler@0.3";
const CLI_RUN_P2: &str = "wasi:cli/run@0.2";

/// Classifies `bytes` by its top-level exports.
pub fn classify(bytes: &[u8]) -> Result<WasmKind, WasmKindError> {
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| WasmKindError::Invalid(e.to_string()))? {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } if depth == 0 => return Ok(WasmKind::CoreModule),
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| WasmKindError::Invalid(e.to_string()))?;
                    exports.push(export.name.full_name().into_owned());
                }
            }
            Payload::End(_) if depth == 0 => break,
            Payload::End(_) => depth -= 1,
            _ => {}
        }
    }
    let exports_one = |prefix: &str| exports.iter().any(|e| e.starts_with(prefix));
    Ok(if exports_one(HTTP_P3) {
        WasmKind::Http(WasiHttpVersion::P3)
    } else if exports_one(HTTP_P2) {
        WasmKind::Http(WasiHttpVersion::P2)
    } else if exports_one(CLI_RUN_P2) {
        WasmKind::Command
    } else {
        WasmKind::OtherComponent { exports }
    })
}

impl WasmKind {
    /// Why the host cannot run this kind, or `None` when it can.
    pub fn refusal(&self) -> Option<String> {
        match self {
            WasmKind::Http(_) | WasmKind::Command => None,
            WasmKind::CoreModule => Some(
                "a core Wasm module, not a component: heart runs components exporting \
                 wasi:http/incoming-handler@0.2, wasi:http/handler@0.3 or wasi:cli/run@0.2"
                    .to_owned(),
            ),
            WasmKind::OtherComponent { exports } => Some(format!(
                "a component exporting neither a WASI HTTP handler \
                 (wasi:http/incoming-handler@0.2, wasi:http/handler@0.3) nor wasi:cli/run@0.2; \
                 its exports: [{}]",
                exports.join(", ")
            )),
        }
    }
}

//! What a Wasm binary is, from its top-level exports, without compiling it: a WASI HTTP
//! handler (0.2 or 0.3), a `wasi:cli` command, or something this host does not run.

use heart_manifest::world::{self, Binary};

/// Which WASI HTTP world a component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasiHttpVersion {
    /// `wasi:http/incoming-handler@0.2.x`.
    P2,
    /// `wasi:http/handler@0.3.x`.
    P3,
}

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

pub use heart_manifest::world::WorldError as WasmKindError;

const HTTP_P2: &str = "wasi:http/incoming-handler@0.2";
const HTTP_P3: &str = "wasi:http/handler@0.3";
const CLI_RUN_P2: &str = "wasi:cli/run@0.2";

/// Classifies `bytes` by its top-level exports.
pub fn classify(bytes: &[u8]) -> Result<WasmKind, WasmKindError> {
    let world = match world::read(bytes)? {
        Binary::CoreModule => return Ok(WasmKind::CoreModule),
        Binary::Component(world) => world,
    };
    Ok(if world.exports_one(HTTP_P3) {
        WasmKind::Http(WasiHttpVersion::P3)
    } else if world.exports_one(HTTP_P2) {
        WasmKind::Http(WasiHttpVersion::P2)
    } else if world.exports_one(CLI_RUN_P2) {
        WasmKind::Command
    } else {
        WasmKind::OtherComponent {
            exports: world.exports,
        }
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

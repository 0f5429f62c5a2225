//! Renderers of one [`crate::HeartFrame`]: SVG, text, JSON (feature `json`) and PNG (feature
//! `png`).

mod fixed2;
mod format;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "png")]
mod png;
mod svg;
mod text;
mod viewport;

pub use format::Format;
#[cfg(feature = "json")]
pub use json::{FrameJson, json};
#[cfg(feature = "png")]
pub use png::{RenderError, png};
pub use svg::{METADATA_NAMESPACE, svg};
pub use text::{TextOptions, text};
pub use viewport::Viewport;

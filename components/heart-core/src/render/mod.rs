//! Renderers of one [`crate::HeartFrame`]: SVG, JSON, text and PNG.

mod fixed2;
mod format;
mod json;
mod png;
mod svg;
mod text;
mod viewport;

pub use format::Format;
pub use json::{FrameJson, json};
pub use png::{RenderError, png};
pub use svg::svg;
pub use text::{TextOptions, text};
pub use viewport::Viewport;

//! JSON renderer: the frame's points and values for programs (and the browser parity check).

use serde::Serialize;

use crate::frame::HeartFrame;
use crate::runtime::RuntimeFigures;

/// Rounds to six decimals: enough for pixel work and parity checks, and stable in snapshots.
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The JSON shape of a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameJson {
    /// Seconds since the animation started.
    pub t: f64,
    /// Beats elapsed.
    pub phase: f64,
    /// Scale of the outline (1.0 at rest).
    pub pulse_factor: f64,
    /// Heart rate.
    pub bpm: u16,
    /// Symbol glyph (♡, ❤️ or 💓).
    pub symbol: &'static str,
    /// Symbol name (`resting`, `steady`, `racing`).
    pub symbol_name: &'static str,
    /// Symbol weight (0.8, 1.0 or 1.2).
    pub weight: f64,
    /// Love level 1–10.
    pub love_level: u8,
    /// Fill colour as `#rrggbb`.
    pub color: String,
    /// Rendered size in pixels.
    pub size: u16,
    /// Outline points `[x, y]` in heart space (centred, y up), already pulse-scaled.
    pub points: Vec<[f64; 2]>,
    /// The serving runtime's figures, where a server added them (`null` members are unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeFigures>,
}

impl From<&HeartFrame> for FrameJson {
    fn from(frame: &HeartFrame) -> Self {
        Self {
            t: frame.t,
            phase: round6(frame.phase),
            pulse_factor: round6(frame.pulse_factor),
            bpm: frame.bpm.get(),
            symbol: frame.symbol.glyph(),
            symbol_name: frame.symbol.name(),
            weight: frame.symbol.weight(),
            love_level: frame.love_level.get(),
            color: frame.color.hex(),
            size: frame.size.get(),
            points: frame
                .outline
                .points()
                .iter()
                .map(|p| [round6(p.x), round6(p.y)])
                .collect(),
            runtime: frame.runtime.clone(),
        }
    }
}

/// Renders `frame` as pretty-printed JSON.
pub fn json(frame: &HeartFrame) -> String {
    serde_json::to_string_pretty(&FrameJson::from(frame))
        .expect("FrameJson has only finite numbers and strings")
}

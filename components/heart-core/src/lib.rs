//! The pure heart of heart-display: geometry, pulse, ECG, symbols, frame pacing, config
//! validation and renderers. No I/O and no host dependencies, so the same code runs in the
//! WASI HTTP component, in the browser and in the native host.
//!
//! - [`outline`]: the parametric heart outline ([`HeartOutline`]).
//! - [`pulse`]: the lub-dub pulse factor over time ([`PulseWave`], [`PulseClock`]).
//! - [`ecg`]: the ECG-like waveform and its text-grid mapping ([`EcgWave`], [`EcgGrid`]).
//! - [`symbol`]: the heart symbol for a bpm ([`Symbol`]).
//! - [`pacing`]: the browser's frame-pacing controller ([`FramePacer`]).
//! - [`config`], [`color`]: validated configuration values and their parsers.
//! - [`config_files`]: the config-directory form (one file per key, a mounted ConfigMap).
//! - [`frame`]: one computed heart frame ([`HeartFrame`]), the input of every renderer.
//! - [`render`]: SVG, JSON, text and PNG renderers.
//! - [`runtime`]: the serving runtime's figures a frame can carry ([`RuntimeFigures`]).
//! - [`presence`]: the client heartbeat state machine behind `POST /api/beat`.
//! - [`api`]: the HTTP-agnostic API (plain request → plain response) every adapter serves.
//!
//! Features: `json` (the JSON renderer and the beat body), `png` (the PNG renderer), `api`
//! (both, plus the API; the default). Without them the crate is what the browser draws with.
#![deny(missing_docs)]

#[cfg(feature = "api")]
pub mod api;
pub mod color;
pub mod config;
pub mod config_files;
pub mod ecg;
pub mod frame;
pub mod outline;
#[cfg(test)]
mod outline_curve;
pub mod pacing;
pub mod presence;
pub mod pulse;
pub mod render;
pub mod runtime;
pub mod symbol;

pub use color::Color;
pub use config::{AlertThreshold, Bpm, ConfigError, Field, HeartConfig, LoveLevel, Seconds, Size};
pub use ecg::{EcgGrid, EcgWave};
pub use frame::HeartFrame;
pub use outline::{HeartOutline, OUTLINE_POINTS, OutlineRow, Point};
pub use pacing::{FramePacer, PacingMode};
pub use pulse::{PulseClock, PulseWave};
pub use runtime::{InstanceLife, PodName, RuntimeFigures};
pub use symbol::Symbol;

//! heart-display in the browser: heart-core's outline, pulse clock, ECG, symbol and frame pacer
//! drive two canvases through wasm-bindgen. Nothing geometric is computed here or in JS; this
//! crate only draws what the core computes and runs the animation loop.
//!
//! - [`draw`]: drawing a heart and an ECG trace on 2D canvases.
//! - [`stats`]: frame statistics (intervals, update+draw cost percentiles).
//! - [`animation`]: the `requestAnimationFrame` loop and the [`Heart`] handle JS holds.
#![deny(missing_docs)]

pub mod animation;
pub mod draw;
pub mod stats;

pub use animation::{Heart, outline_points};

//! The fuzz targets' properties, as plain functions: `fuzz_targets/` feeds them libFuzzer's
//! inputs (nightly, `cargo fuzz run`), and `tests/replay.rs` replays the committed seeds and
//! regression inputs through them on stable in `cargo xtask test`.
//!
//! Each `run(data)` panics when a property breaks.

pub mod api_request;
pub mod beat_report;
pub mod chart_values;
pub mod config_and_render;
pub mod config_files;
pub mod env_values;
pub mod live_stream;
pub mod pod_template;
pub mod settings;
pub mod spin_manifest;
pub mod trace_context;

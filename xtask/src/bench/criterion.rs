//! Figures from criterion benches run by the bench.

use anyhow::{Context, Result};
use serde_json::Value;

use crate::build::target_dir;

/// Criterion's median estimate for `group/name`, in microseconds.
pub(super) fn median_us(group: &str, name: &str) -> Result<f64> {
    let file = target_dir()
        .join("criterion")
        .join(group)
        .join(name.replace('/', "_"))
        .join("new/estimates.json");
    let estimates: Value = serde_json::from_slice(
        &std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?,
    )?;
    estimates["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns / 1000.0)
        .context("no median in criterion estimates")
}

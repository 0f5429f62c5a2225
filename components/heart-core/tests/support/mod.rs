//! Shared helpers for heart-core's integration tests.

use heart_core::{HeartConfig, HeartFrame, Seconds};

/// A frame from `(key, value)` config pairs at time `t`.
pub fn frame(pairs: &[(&str, &str)], t: f64) -> HeartFrame {
    let config = HeartConfig::default()
        .with_values(pairs.iter().copied())
        .expect("test config is valid");
    HeartFrame::at(&config, Seconds::new(t).expect("test time is valid"))
}

//! Frame statistics: intervals between rendered frames and the update+draw cost of each.

use serde::Serialize;

/// Frames kept for percentiles (about 10 s at 60 fps).
const WINDOW: usize = 600;

/// Rolling frame statistics.
#[derive(Debug, Default, Clone)]
pub struct FrameStats {
    frames: u64,
    slow_intervals: u64,
    last_ms: Option<f64>,
    intervals: Vec<f64>,
    costs: Vec<f64>,
}

/// A summary for the page and tests.
#[derive(Debug, Serialize, PartialEq)]
pub struct StatsSummary {
    /// Rendered frames.
    pub frames: u64,
    /// Intervals between rendered frames above 25 ms.
    pub slow_intervals: u64,
    /// Median update+draw cost in ms (recent frames).
    pub cost_p50_ms: f64,
    /// 95th-percentile update+draw cost in ms (recent frames).
    pub cost_p95_ms: f64,
    /// Median interval between rendered frames in ms (recent frames).
    pub interval_p50_ms: f64,
}

/// Interval above which a frame counts as slow (Chromium rounds timestamps to 0.1 ms, so
/// 16.7 ms is not a useful threshold).
pub const SLOW_INTERVAL_MS: f64 = 25.0;

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut scratch = values.to_vec();
    let rank = ((p / 100.0) * (scratch.len() - 1) as f64).round() as usize;
    // The rank-th smallest without a full sort (smaller code in the bundle, less work).
    *scratch
        .select_nth_unstable_by(rank.min(values.len() - 1), f64::total_cmp)
        .1
}

fn push_bounded(values: &mut Vec<f64>, v: f64) {
    if values.len() == WINDOW {
        values.remove(0);
    }
    values.push(v);
}

impl FrameStats {
    /// Records a rendered frame at `now_ms` that cost `cost_ms`.
    pub fn record(&mut self, now_ms: f64, cost_ms: f64) {
        self.frames += 1;
        if let Some(last) = self.last_ms.replace(now_ms) {
            let interval = now_ms - last;
            if interval > SLOW_INTERVAL_MS {
                self.slow_intervals += 1;
            }
            push_bounded(&mut self.intervals, interval);
        }
        push_bounded(&mut self.costs, cost_ms);
    }

    /// Forgets the last timestamp (after a pause) so the gap is not counted as a slow frame.
    pub fn break_timeline(&mut self) {
        self.last_ms = None;
    }

    /// The summary so far.
    pub fn summary(&self) -> StatsSummary {
        StatsSummary {
            frames: self.frames,
            slow_intervals: self.slow_intervals,
            cost_p50_ms: percentile(&self.costs, 50.0),
            cost_p95_ms: percentile(&self.costs, 95.0),
            interval_p50_ms: percentile(&self.intervals, 50.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_intervals_are_counted_above_25_ms() {
        let mut stats = FrameStats::default();
        for (t, cost) in [(0.0, 1.0), (16.7, 2.0), (50.0, 3.0), (66.7, 4.0)] {
            stats.record(t, cost);
        }
        let s = stats.summary();
        assert_eq!((s.frames, s.slow_intervals), (4, 1));
        assert_eq!(s.cost_p50_ms, 3.0);
        assert_eq!(s.cost_p95_ms, 4.0);
    }

    #[test]
    fn a_pause_is_not_a_slow_frame() {
        let mut stats = FrameStats::default();
        stats.record(0.0, 1.0);
        stats.break_timeline();
        stats.record(5000.0, 1.0);
        assert_eq!(stats.summary().slow_intervals, 0);
    }
}

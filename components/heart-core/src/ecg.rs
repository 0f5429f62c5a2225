//! The ECG-like trace: y(t) in [−1, 1] with a P-QRS-T shape per beat, and its text-grid mapping.

use serde::Serialize;

use crate::config::Bpm;
use crate::pulse::PulseWave;

/// One wave of the P-QRS-T complex: a Gaussian at `centre` (beat fraction) of `width` and `height`.
struct Deflection {
    centre: f64,
    width: f64,
    height: f64,
}

const COMPLEX: [Deflection; 5] = [
    Deflection {
        centre: 0.10,
        width: 0.025,
        height: 0.15,
    }, // P
    Deflection {
        centre: 0.20,
        width: 0.008,
        height: -0.12,
    }, // Q
    Deflection {
        centre: 0.225,
        width: 0.010,
        height: 1.0,
    }, // R
    Deflection {
        centre: 0.25,
        width: 0.010,
        height: -0.30,
    }, // S
    Deflection {
        centre: 0.45,
        width: 0.040,
        height: 0.30,
    }, // T
];

/// The ECG waveform of a heart beating at a constant bpm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EcgWave {
    bpm: Bpm,
}

/// One ECG sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EcgSample {
    /// Time in seconds.
    pub t: f64,
    /// Amplitude in `[-1, 1]`.
    pub y: f64,
}

impl EcgWave {
    /// The wave at `bpm`.
    pub fn new(bpm: Bpm) -> Self {
        Self { bpm }
    }

    /// The amplitude at a beat fraction (only the fraction of `beat_phase` matters).
    pub fn shape(beat_phase: f64) -> f64 {
        let u = beat_phase.rem_euclid(1.0);
        let y: f64 = COMPLEX
            .iter()
            .map(|d| {
                let z = (u - d.centre) / d.width;
                d.height * (-0.5 * z * z).exp()
            })
            .sum();
        y.clamp(-1.0, 1.0)
    }

    /// The amplitude at `t` seconds, always in `[-1, 1]`.
    pub fn y(self, t: f64) -> f64 {
        Self::shape(PulseWave::phase_at(self.bpm, t))
    }

    /// `count` samples evenly spaced over `[start, start + duration)`.
    pub fn samples(self, start: f64, duration: f64, count: usize) -> Vec<EcgSample> {
        let step = if count == 0 {
            0.0
        } else {
            duration / count as f64
        };
        (0..count)
            .map(|i| {
                let t = start + step * i as f64;
                EcgSample { t, y: self.y(t) }
            })
            .collect()
    }
}

/// A text grid the ECG trace is drawn on: `rows` high, `cols` wide, scrolling at `rate`
/// columns per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EcgGrid {
    /// Number of rows (H).
    pub rows: usize,
    /// Number of columns (W).
    pub cols: usize,
    /// Columns per second.
    pub rate: f64,
}

impl EcgGrid {
    /// The row for amplitude `y`: ⌊H/2·(1 − y)⌋ clamped to `[0, H−1]`. `y = 1` is the top row.
    pub fn row(&self, y: f64) -> usize {
        let last = self.rows.saturating_sub(1);
        let raw = (self.rows as f64 / 2.0 * (1.0 - y)).floor();
        if raw.is_nan() || raw <= 0.0 {
            0
        } else {
            (raw as usize).min(last)
        }
    }

    /// The column for time `t`: ⌊t·rate⌋ mod W.
    pub fn col(&self, t: f64) -> usize {
        if self.cols == 0 {
            return 0;
        }
        let raw = (t * self.rate).floor();
        if raw.is_finite() {
            raw.rem_euclid(self.cols as f64) as usize
        } else {
            0
        }
    }

    /// The cells `(row, col)` a trace of `wave` covers over the last full sweep ending at
    /// `t_end`, with vertical strokes joining neighbouring samples so spikes stay connected.
    pub fn trace(&self, wave: EcgWave, t_end: f64) -> Vec<(usize, usize)> {
        const SAMPLES_PER_COL: usize = 4;
        if self.rows == 0 || self.cols == 0 || self.rate <= 0.0 {
            return Vec::new();
        }
        let n = self.cols * SAMPLES_PER_COL;
        let dt = 1.0 / (self.rate * SAMPLES_PER_COL as f64);
        let start = t_end - dt * n as f64;
        let mut cells = Vec::with_capacity(n * 2);
        let mut previous: Option<usize> = None;
        for i in 0..n {
            let t = start + dt * (i as f64 + 0.5);
            let (row, col) = (self.row(wave.y(t)), self.col(t));
            if let Some(prev_row) = previous {
                for r in prev_row.min(row)..=prev_row.max(row) {
                    cells.push((r, col));
                }
            }
            cells.push((row, col));
            previous = Some(row);
        }
        cells.sort_unstable();
        cells.dedup();
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpm(n: u16) -> Bpm {
        Bpm::new(n).expect("test bpm in range")
    }

    #[test]
    fn r_peak_is_the_highest_point_of_a_beat() {
        let peak = (0..1000)
            .map(|i| i as f64 / 1000.0)
            .max_by(|a, b| EcgWave::shape(*a).total_cmp(&EcgWave::shape(*b)))
            .expect("non-empty");
        assert!((peak - 0.225).abs() < 0.002, "{peak}");
        assert!(EcgWave::shape(0.225) > 0.95);
    }

    #[test]
    fn baseline_is_flat_between_beats() {
        assert!(EcgWave::shape(0.75).abs() < 1e-6);
    }

    #[test]
    fn s_wave_dips_below_baseline() {
        assert!(EcgWave::shape(0.252) < -0.1);
    }

    #[test]
    fn wave_repeats_every_beat() {
        let wave = EcgWave::new(bpm(60));
        assert!((wave.y(0.225) - wave.y(1.225)).abs() < 1e-9);
    }

    /// 9 rows, 40 columns, 20 columns a second.
    fn grid_9x40() -> EcgGrid {
        EcgGrid {
            rows: 9,
            cols: 40,
            rate: 20.0,
        }
    }

    #[test]
    fn top_and_bottom_map_to_first_and_last_row() {
        let grid = grid_9x40();
        assert_eq!(grid.row(1.0), 0);
        assert_eq!(grid.row(-1.0), 8, "H/2·2 = H is clamped to H−1");
        assert_eq!(grid.row(0.0), 4);
        assert_eq!(grid.row(f64::NAN), 0);
    }

    #[test]
    fn columns_wrap_around_the_grid() {
        let grid = grid_9x40();
        assert_eq!(grid.col(0.0), 0);
        assert_eq!(grid.col(0.049), 0);
        assert_eq!(grid.col(0.05), 1);
        assert_eq!(grid.col(2.0), 0, "40 columns at 20/s wrap after 2 s");
        assert_eq!(grid.col(f64::INFINITY), 0);
    }

    #[test]
    fn trace_spans_every_column_and_reaches_the_top_row() {
        let grid = grid_9x40();
        let cells = grid.trace(EcgWave::new(bpm(60)), 2.0);
        let cols: std::collections::BTreeSet<usize> = cells.iter().map(|c| c.1).collect();
        assert_eq!(cols.len(), 40);
        assert!(
            cells.iter().any(|c| c.0 == 0),
            "the R spike reaches the top"
        );
        assert!(cells.iter().all(|&(r, c)| r < 9 && c < 40));
    }
}

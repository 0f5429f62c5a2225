//! Medians and throughput ratios over interleaved rounds.

use serde_json::{Value, json};

use super::wrk::Load;

/// The median (the upper one of an even count); NaN for none.
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A throughput ratio from interleaved rounds: the median and range of the per-round ratios.
#[derive(Debug)]
pub(super) struct Ratio {
    per_round: Vec<f64>,
}

impl Ratio {
    pub(super) fn of(a: &[Load], b: &[Load]) -> Self {
        Self {
            per_round: a.iter().zip(b).map(|(a, b)| a.rps / b.rps).collect(),
        }
    }

    pub(super) fn median(&self) -> f64 {
        median(self.per_round.clone())
    }

    pub(super) fn range(&self) -> (f64, f64) {
        self.per_round
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(*r), hi.max(*r))
            })
    }

    pub(super) fn text(&self, baseline: &str) -> String {
        let (lo, hi) = self.range();
        format!("{:.2}× {baseline} [{lo:.2}–{hi:.2}]", self.median())
    }

    pub(super) fn json(&self) -> Value {
        let (lo, hi) = self.range();
        json!({ "median": self.median(), "min": lo, "max": hi, "per_round": self.per_round })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_medians_of_per_round_ratios() {
        // Round 2 is a slow spell for both sides: per-round ratios ignore it, a ratio of the
        // medians (4 / 5 = 0.8) would not.
        let rps = |values: [f64; 3]| -> Vec<Load> {
            values
                .map(|rps| Load {
                    rps,
                    ..Load::default()
                })
                .into()
        };
        let ratio = Ratio::of(&rps([6.0, 1.0, 4.0]), &rps([10.0, 2.0, 5.0]));
        assert_eq!(ratio.per_round, vec![0.6, 0.5, 0.8]);
        assert_eq!(ratio.median(), 0.6);
        assert_eq!(ratio.range(), (0.5, 0.8));
        assert_eq!(ratio.text("native"), "0.60× native [0.50–0.80]");
    }
}

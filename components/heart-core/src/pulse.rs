//! The heartbeat: a lub-dub pulse factor over time, driven by bpm and love level.

use std::f64::consts::PI;

use crate::config::{Bpm, LoveLevel};
use crate::symbol::Symbol;

/// How far the heart grows at the peak of a beat for a given love level and bpm.
///
/// The factor is `1 + amplitude · shape(phase)` with `shape` in `[0, 1]`, so it always lies in
/// `[1, 1 + amplitude]` and never beyond [`PulseWave::MAX_FACTOR`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseWave {
    amplitude: f64,
}

/// Amplitude per love level step; love level 10 at weight 1.0 gives an amplitude of 0.2.
const AMPLITUDE_PER_LOVE: f64 = 0.018;
/// Amplitude every heart has, even at love level 1.
const AMPLITUDE_BASE: f64 = 0.02;

/// A raised-sine bump over `[start, start + width)`, peaking at `height` in the middle.
fn bump(u: f64, start: f64, width: f64, height: f64) -> f64 {
    if (start..start + width).contains(&u) {
        height * (PI * (u - start) / width).sin().powi(2)
    } else {
        0.0
    }
}

impl PulseWave {
    /// The largest pulse factor any valid config can produce.
    pub const MAX_FACTOR: f64 =
        1.0 + (AMPLITUDE_BASE + AMPLITUDE_PER_LOVE * LoveLevel::MAX as f64) * 1.2;

    /// The pulse of a heart at `bpm` with `love` (amplitude scaled by the symbol's weight).
    pub fn new(bpm: Bpm, love: LoveLevel) -> Self {
        let base = AMPLITUDE_BASE + AMPLITUDE_PER_LOVE * f64::from(love.get());
        Self {
            amplitude: base * Symbol::for_bpm(bpm).weight(),
        }
    }

    /// Peak growth over the resting size (factor − 1 at the top of the lub).
    pub fn amplitude(self) -> f64 {
        self.amplitude
    }

    /// The beat shape at `beat_phase` (whole beats; only the fraction matters): a strong "lub"
    /// then a softer "dub", each a raised sine, resting between beats. Always in `[0, 1]`.
    pub fn shape(beat_phase: f64) -> f64 {
        let u = beat_phase.rem_euclid(1.0);
        bump(u, 0.22, 0.16, 1.0) + bump(u, 0.42, 0.14, 0.6)
    }

    /// The pulse factor at `beat_phase`: 1.0 at rest, `1 + amplitude` at the peak.
    pub fn factor(self, beat_phase: f64) -> f64 {
        1.0 + self.amplitude * Self::shape(beat_phase)
    }

    /// Beats elapsed after `seconds` at a constant `bpm`.
    pub fn phase_at(bpm: Bpm, seconds: f64) -> f64 {
        seconds * f64::from(bpm.get()) / 60.0
    }
}

/// A beat-phase accumulator that keeps the rhythm continuous when bpm changes mid-animation:
/// the phase only ever advances by `dt · bpm / 60`, so a new bpm changes the speed, not the
/// position, and the heart never jumps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseClock {
    bpm: Bpm,
    phase: f64,
}

impl PulseClock {
    /// A clock at phase zero.
    pub fn new(bpm: Bpm) -> Self {
        Self { bpm, phase: 0.0 }
    }

    /// Advances by `dt_seconds` (negative or non-finite steps are ignored).
    pub fn advance(&mut self, dt_seconds: f64) {
        if dt_seconds.is_finite() && dt_seconds > 0.0 {
            // Keep only the fraction plus a whole-beat counter small enough for f64 precision.
            self.phase = (self.phase + dt_seconds * f64::from(self.bpm.get()) / 60.0) % 1.0e6;
        }
    }

    /// Changes the rate from now on, keeping the current phase.
    pub fn set_bpm(&mut self, bpm: Bpm) {
        self.bpm = bpm;
    }

    /// The current rate.
    pub fn bpm(self) -> Bpm {
        self.bpm
    }

    /// Beats elapsed so far.
    pub fn phase(self) -> f64 {
        self.phase
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpm(n: u16) -> Bpm {
        Bpm::new(n).expect("test bpm in range")
    }

    fn love(n: u8) -> LoveLevel {
        LoveLevel::new(n).expect("test love in range")
    }

    #[test]
    fn heart_rests_between_beats_and_peaks_at_the_lub() {
        let wave = PulseWave::new(bpm(72), love(7));
        assert_eq!(wave.factor(0.0), 1.0);
        assert_eq!(wave.factor(0.9), 1.0);
        assert!((wave.factor(0.30) - (1.0 + wave.amplitude())).abs() < 1e-12);
    }

    #[test]
    fn dub_is_softer_than_lub() {
        let wave = PulseWave::new(bpm(72), love(7));
        let lub = wave.factor(0.30);
        let dub = wave.factor(0.49);
        assert!(dub > 1.0 && dub < lub, "lub {lub} dub {dub}");
    }

    #[test]
    fn more_love_means_a_stronger_pulse() {
        let weak = PulseWave::new(bpm(72), love(1)).amplitude();
        let strong = PulseWave::new(bpm(72), love(10)).amplitude();
        assert!(strong > weak * 4.0, "{weak} {strong}");
    }

    #[test]
    fn racing_heart_pulses_harder_than_resting_heart() {
        let resting = PulseWave::new(bpm(50), love(7)).amplitude();
        let steady = PulseWave::new(bpm(80), love(7)).amplitude();
        let racing = PulseWave::new(bpm(150), love(7)).amplitude();
        assert!((resting / steady - 0.8).abs() < 1e-12);
        assert!((racing / steady - 1.2).abs() < 1e-12);
    }

    #[test]
    fn max_factor_is_reached_only_by_the_strongest_config() {
        let wave = PulseWave::new(bpm(Bpm::MAX), love(LoveLevel::MAX));
        assert!((wave.factor(0.30) - PulseWave::MAX_FACTOR).abs() < 1e-12);
    }

    #[test]
    fn one_beat_takes_sixty_over_bpm_seconds() {
        assert!((PulseWave::phase_at(bpm(120), 0.5) - 1.0).abs() < 1e-12);
        assert!((PulseWave::phase_at(bpm(60), 3.0) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn changing_bpm_keeps_the_phase_continuous() {
        let mut clock = PulseClock::new(bpm(60));
        clock.advance(0.25);
        let before = clock.phase();
        clock.set_bpm(bpm(120));
        assert_eq!(clock.phase(), before, "no jump when the rate changes");
        clock.advance(0.25);
        assert!(
            (clock.phase() - (before + 0.5)).abs() < 1e-12,
            "new rate applies from now"
        );
    }

    #[test]
    fn clock_ignores_bad_steps() {
        let mut clock = PulseClock::new(bpm(60));
        clock.advance(-1.0);
        clock.advance(f64::NAN);
        clock.advance(f64::INFINITY);
        assert_eq!(clock.phase(), 0.0);
    }
}

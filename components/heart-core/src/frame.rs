//! One computed heart frame: everything a renderer needs, derived from a config and a time.

use crate::color::Color;
use crate::config::{Bpm, HeartConfig, LoveLevel, Seconds, Size};
use crate::outline::HeartOutline;
use crate::pulse::PulseWave;
use crate::runtime::RuntimeFigures;
use crate::symbol::Symbol;

/// A heart at one moment: the pulsed outline plus the values it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartFrame {
    /// Seconds since the animation started.
    pub t: f64,
    /// Beats elapsed (the fraction is the position within the current beat).
    pub phase: f64,
    /// Heart rate.
    pub bpm: Bpm,
    /// Pulse amplitude setting.
    pub love_level: LoveLevel,
    /// Fill colour.
    pub color: Color,
    /// Rendered size in pixels.
    pub size: Size,
    /// Symbol for the bpm.
    pub symbol: Symbol,
    /// How much the outline is scaled (1.0 at rest).
    pub pulse_factor: f64,
    /// The outline scaled by `pulse_factor`.
    pub outline: HeartOutline,
    /// The figures of the runtime that served it, where a server adds them.
    pub runtime: Option<RuntimeFigures>,
}

impl HeartFrame {
    /// The frame at `t` seconds for a heart beating steadily at `config.bpm`.
    pub fn at(config: &HeartConfig, t: Seconds) -> Self {
        let phase = PulseWave::phase_at(config.bpm, t.get());
        Self::at_phase(config, t.get(), phase)
    }

    /// The frame at a given beat phase (as kept by a [`crate::PulseClock`] when bpm varies).
    pub fn at_phase(config: &HeartConfig, t: f64, phase: f64) -> Self {
        let pulse_factor = PulseWave::new(config.bpm, config.love_level).factor(phase);
        Self {
            t,
            phase,
            bpm: config.bpm,
            love_level: config.love_level,
            color: config.color.clone(),
            size: config.size,
            symbol: Symbol::for_bpm(config.bpm),
            pulse_factor,
            outline: HeartOutline::scaled(pulse_factor),
            runtime: None,
        }
    }

    /// The same frame carrying `runtime`'s figures.
    pub fn with_runtime(self, runtime: Option<RuntimeFigures>) -> Self {
        Self { runtime, ..self }
    }

    /// A one-line description for titles and alt text.
    pub fn title(&self) -> String {
        format!(
            "Heart beating at {} bpm ({} {}), love level {}",
            self.bpm,
            self.symbol.name(),
            self.symbol.glyph(),
            self.love_level
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_at_time_uses_the_bpm_for_its_phase() {
        let config = HeartConfig::default()
            .with_values([("bpm", "120")])
            .expect("valid");
        let frame = HeartFrame::at(&config, Seconds::new(0.75).expect("valid"));
        assert!((frame.phase - 1.5).abs() < 1e-12);
        assert_eq!(frame.symbol, Symbol::Racing);
    }

    #[test]
    fn frame_outline_is_scaled_by_its_pulse_factor() {
        let config = HeartConfig::default();
        let frame = HeartFrame::at_phase(&config, 0.0, 0.30);
        assert!(frame.pulse_factor > 1.0);
        assert_eq!(frame.outline, HeartOutline::scaled(frame.pulse_factor));
    }

    #[test]
    fn title_names_bpm_symbol_and_love() {
        let frame = HeartFrame::at_phase(&HeartConfig::default(), 0.0, 0.0);
        assert_eq!(
            frame.title(),
            "Heart beating at 72 bpm (steady \u{2764}\u{FE0F}), love level 7"
        );
    }
}

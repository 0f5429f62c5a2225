//! Frame pacing for the browser's animation loop, as a pure controller.
//!
//! The page calls [`FramePacer::begin_frame`] on every `requestAnimationFrame` callback and
//! [`FramePacer::end_frame`] with the time its update and draw took. The pacer aims for 60 fps;
//! after [`FramePacer::SLOW_FRAMES_TO_DROP`] consecutive frames costing more than
//! [`FramePacer::SLOW_FRAME_MS`] it renders only every other display frame (30 fps), and it
//! climbs back after [`FramePacer::FAST_FRAMES_TO_CLIMB`] consecutive cheap frames. Skipped
//! callbacks are not lost time: the next rendered frame's step includes them (phase
//! compensation), so the pulse keeps its rhythm whatever the frame rate.

use serde::Serialize;

/// The frame rate the pacer aims for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PacingMode {
    /// Render every display frame (60 fps).
    Full,
    /// Render every other display frame (30 fps).
    Half,
}

impl PacingMode {
    /// Frames per second aimed for.
    pub fn target_fps(self) -> u32 {
        match self {
            Self::Full => 60,
            Self::Half => 30,
        }
    }
}

/// The frame-pacing controller.
#[derive(Debug, Clone, PartialEq)]
pub struct FramePacer {
    mode: PacingMode,
    slow_streak: u32,
    fast_streak: u32,
    last_render_ms: Option<f64>,
    last_callback_ms: Option<f64>,
    compensated_ms: f64,
}

impl Default for FramePacer {
    fn default() -> Self {
        Self::new()
    }
}

impl FramePacer {
    /// A frame costing more than this (update + draw) counts as slow.
    pub const SLOW_FRAME_MS: f64 = 16.0;
    /// Consecutive slow frames that make the pacer drop to 30 fps.
    pub const SLOW_FRAMES_TO_DROP: u32 = 3;
    /// A frame costing at most this counts as fast enough to climb back (hysteresis below
    /// [`Self::SLOW_FRAME_MS`] keeps the pacer from flapping).
    pub const FAST_FRAME_MS: f64 = 12.0;
    /// Consecutive fast frames that make the pacer climb back to 60 fps.
    pub const FAST_FRAMES_TO_CLIMB: u32 = 30;
    /// At 30 fps a callback this soon after the last rendered frame is skipped. A little under
    /// 1000/30 ms so display-timer jitter does not skip two callbacks in a row.
    const HALF_RATE_MIN_INTERVAL_MS: f64 = 1000.0 / 30.0 - 4.0;

    /// A pacer at 60 fps that has rendered nothing yet.
    pub fn new() -> Self {
        Self {
            mode: PacingMode::Full,
            slow_streak: 0,
            fast_streak: 0,
            last_render_ms: None,
            last_callback_ms: None,
            compensated_ms: 0.0,
        }
    }

    /// Called at each animation callback with its timestamp in milliseconds. Returns the step
    /// in seconds to advance the pulse by if this frame should be rendered, or `None` to skip
    /// it. The step covers all time since the last rendered frame, skipped callbacks included.
    pub fn begin_frame(&mut self, now_ms: f64) -> Option<f64> {
        if !now_ms.is_finite() {
            return None;
        }
        let previous_callback = self.last_callback_ms.replace(now_ms);
        let Some(last) = self.last_render_ms else {
            self.last_render_ms = Some(now_ms);
            return Some(0.0);
        };
        let elapsed = (now_ms - last).max(0.0);
        if self.mode == PacingMode::Half && elapsed < Self::HALF_RATE_MIN_INTERVAL_MS {
            return None;
        }
        if let Some(prev) = previous_callback
            && prev > last
        {
            // Callbacks were skipped since the last render: their time is carried into this step.
            self.compensated_ms += prev - last;
        }
        self.last_render_ms = Some(now_ms);
        Some(elapsed / 1000.0)
    }

    /// Reports how long the rendered frame's update and draw took, in milliseconds.
    pub fn end_frame(&mut self, cost_ms: f64) {
        let cost = if cost_ms.is_finite() {
            cost_ms
        } else {
            f64::MAX
        };
        match self.mode {
            PacingMode::Full => {
                self.slow_streak = if cost > Self::SLOW_FRAME_MS {
                    self.slow_streak + 1
                } else {
                    0
                };
                if self.slow_streak >= Self::SLOW_FRAMES_TO_DROP {
                    self.mode = PacingMode::Half;
                    self.slow_streak = 0;
                    self.fast_streak = 0;
                }
            }
            PacingMode::Half => {
                self.fast_streak = if cost <= Self::FAST_FRAME_MS {
                    self.fast_streak + 1
                } else {
                    0
                };
                if self.fast_streak >= Self::FAST_FRAMES_TO_CLIMB {
                    self.mode = PacingMode::Full;
                    self.fast_streak = 0;
                    self.slow_streak = 0;
                }
            }
        }
    }

    /// Forgets the timeline (e.g. after the tab was hidden) so the next frame starts afresh
    /// instead of leaping over the time the loop was paused.
    pub fn reset_timeline(&mut self) {
        self.last_render_ms = None;
        self.last_callback_ms = None;
    }

    /// The current mode.
    pub fn mode(&self) -> PacingMode {
        self.mode
    }

    /// Milliseconds of skipped callbacks carried into later steps so far.
    pub fn compensated_ms(&self) -> f64 {
        self.compensated_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs display callbacks every `interval` ms, each rendered frame costing `cost` ms;
    /// returns the summed steps in seconds and the number of rendered frames.
    fn run(
        pacer: &mut FramePacer,
        start: f64,
        frames: usize,
        interval: f64,
        cost: f64,
    ) -> (f64, usize) {
        let (mut total, mut rendered) = (0.0, 0);
        for i in 0..frames {
            if let Some(dt) = pacer.begin_frame(start + interval * i as f64) {
                total += dt;
                rendered += 1;
                pacer.end_frame(cost);
            }
        }
        (total, rendered)
    }

    #[test]
    fn fast_frames_stay_at_60_fps() {
        let mut pacer = FramePacer::new();
        let (_, rendered) = run(&mut pacer, 0.0, 120, 16.7, 2.0);
        assert_eq!(rendered, 120);
        assert_eq!(pacer.mode(), PacingMode::Full);
    }

    #[test]
    fn three_slow_frames_in_a_row_drop_to_30_fps() {
        let mut pacer = FramePacer::new();
        run(&mut pacer, 0.0, 2, 16.7, 20.0);
        assert_eq!(
            pacer.mode(),
            PacingMode::Full,
            "two slow frames are not enough"
        );
        run(&mut pacer, 33.4, 1, 16.7, 20.0);
        assert_eq!(pacer.mode(), PacingMode::Half);
        assert_eq!(PacingMode::Half.target_fps(), 30);
    }

    #[test]
    fn a_fast_frame_breaks_the_slow_streak() {
        let mut pacer = FramePacer::new();
        for (i, cost) in [20.0, 20.0, 2.0, 20.0, 20.0].into_iter().enumerate() {
            pacer.begin_frame(16.7 * i as f64);
            pacer.end_frame(cost);
        }
        assert_eq!(pacer.mode(), PacingMode::Full);
    }

    #[test]
    fn half_rate_renders_every_other_display_frame() {
        let mut pacer = FramePacer::new();
        run(&mut pacer, 0.0, 3, 16.7, 20.0);
        let (_, rendered) = run(&mut pacer, 50.1, 60, 16.7, 14.0);
        assert_eq!(rendered, 30);
    }

    #[test]
    fn skipped_frames_keep_the_rhythm() {
        let mut pacer = FramePacer::new();
        let (before, _) = run(&mut pacer, 0.0, 4, 16.7, 20.0);
        let (after, _) = run(&mut pacer, 66.8, 600, 16.7, 14.0);
        let wall = 16.7 * (4.0 + 600.0 - 1.0) / 1000.0;
        let stepped = before + after;
        assert!(
            (stepped - wall).abs() < 0.017,
            "stepped {stepped} s over {wall} s"
        );
        assert!(
            pacer.compensated_ms() > 4000.0,
            "{}",
            pacer.compensated_ms()
        );
    }

    #[test]
    fn fast_frames_climb_back_to_60_fps() {
        let mut pacer = FramePacer::new();
        run(&mut pacer, 0.0, 3, 16.7, 20.0);
        assert_eq!(pacer.mode(), PacingMode::Half);
        run(
            &mut pacer,
            50.1,
            2 * (FramePacer::FAST_FRAMES_TO_CLIMB as usize - 1),
            16.7,
            2.0,
        );
        assert_eq!(pacer.mode(), PacingMode::Half, "one frame short");
        run(&mut pacer, 2000.0, 1, 16.7, 2.0);
        assert_eq!(pacer.mode(), PacingMode::Full);
    }

    #[test]
    fn reset_starts_a_fresh_timeline() {
        let mut pacer = FramePacer::new();
        run(&mut pacer, 0.0, 3, 16.7, 2.0);
        pacer.reset_timeline();
        assert_eq!(
            pacer.begin_frame(60_000.0),
            Some(0.0),
            "no leap after a pause"
        );
    }

    #[test]
    fn non_finite_inputs_are_harmless() {
        let mut pacer = FramePacer::new();
        assert_eq!(pacer.begin_frame(f64::NAN), None);
        pacer.begin_frame(0.0);
        pacer.end_frame(f64::NAN);
        assert_eq!(pacer.begin_frame(16.7).map(|dt| dt > 0.0), Some(true));
    }
}

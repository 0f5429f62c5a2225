//! The animation loop and the [`Heart`] handle the page holds. The `requestAnimationFrame`
//! loop follows wasm-bindgen's `examples/request-animation-frame`: one closure that schedules
//! itself while the heart is running.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use heart_core::config::Field;
use heart_core::{
    Bpm, EcgWave, FramePacer, HeartConfig, HeartOutline, LoveLevel, PulseClock, PulseWave, Seconds,
    Symbol,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlCanvasElement, Performance};

use crate::draw::Canvas;
use crate::stats::FrameStats;

/// Seconds the ECG trace takes to cross its canvas.
const ECG_SWEEP_SECONDS: f64 = 2.5;
/// Colour of the ECG trace.
const ECG_COLOR: &str = "#3ddc84";

/// Everything one animation frame reads and updates.
struct State {
    config: HeartConfig,
    clock: PulseClock,
    pacer: FramePacer,
    stats: FrameStats,
    heart: Canvas,
    ecg: Canvas,
    trace: VecDeque<f64>,
    last_phase: f64,
    reduced_motion: bool,
    burn_ms: f64,
    performance: Option<Performance>,
    pulse_factor: f64,
}

impl State {
    fn now(&self) -> f64 {
        self.performance
            .as_ref()
            .map_or_else(js_sys::Date::now, Performance::now)
    }

    /// One display frame: maybe skip it (pacing), else advance the pulse and draw.
    fn frame(&mut self, now_ms: f64) {
        let Some(dt) = self.pacer.begin_frame(now_ms) else {
            return;
        };
        let started = self.now();
        if self.reduced_motion {
            self.draw_calm();
        } else {
            self.clock.advance(dt);
            self.draw_moving();
        }
        // Test hook: make frames artificially slow to exercise the pacer.
        while self.burn_ms > 0.0 && self.now() - started < self.burn_ms {}
        let cost = self.now() - started;
        self.pacer.end_frame(cost);
        self.stats.record(now_ms, cost);
    }

    fn draw_moving(&mut self) {
        let phase = self.clock.phase();
        self.pulse_factor = PulseWave::new(self.config.bpm, self.config.love_level).factor(phase);
        self.heart
            .draw_heart(&HeartOutline::scaled(self.pulse_factor), &self.config.color);
        let width = self.ecg.width().max(1.0) as usize;
        let beats_per_px =
            f64::from(self.config.bpm.get()) / 60.0 * ECG_SWEEP_SECONDS / width as f64;
        let steps = (((phase - self.last_phase) / beats_per_px).round() as usize).clamp(1, width);
        for k in 1..=steps {
            let p = self.last_phase + (phase - self.last_phase) * k as f64 / steps as f64;
            self.trace.push_back(EcgWave::shape(p));
        }
        while self.trace.len() > width {
            self.trace.pop_front();
        }
        self.last_phase = phase;
        self.ecg.draw_trace(self.trace.iter().copied(), ECG_COLOR);
    }

    /// Reduced motion: a resting heart and a still trace of two beats, nothing flashing.
    fn draw_calm(&mut self) {
        self.pulse_factor = 1.0;
        self.heart
            .draw_heart(&HeartOutline::scaled(1.0), &self.config.color);
        let width = self.ecg.width().max(1.0) as usize;
        self.ecg.draw_trace(
            (0..width).map(|i| EcgWave::shape(2.0 * i as f64 / width as f64)),
            ECG_COLOR,
        );
    }
}

/// The self-scheduling frame callback, shared between the handle and the callback itself.
type FrameCallback = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// Frame statistics and pacing state, as JSON for the page and tests.
#[derive(Serialize)]
struct StatsJson {
    #[serde(flatten)]
    frames: crate::stats::StatsSummary,
    mode: heart_core::PacingMode,
    target_fps: u32,
    compensated_ms: f64,
    phase: f64,
    pulse_factor: f64,
}

/// The animated heart: create it with two canvases, configure it, `start()` it.
#[wasm_bindgen]
pub struct Heart {
    state: Rc<RefCell<State>>,
    running: Rc<Cell<bool>>,
    scheduled: Rc<Cell<bool>>,
    callback: FrameCallback,
}

fn window() -> web_sys::Window {
    web_sys::window().expect("the heart runs in a page with a window")
}

fn schedule(callback: &Closure<dyn FnMut(f64)>) {
    window()
        .request_animation_frame(callback.as_ref().unchecked_ref())
        .expect("requestAnimationFrame is available in every page");
}

impl std::fmt::Debug for Heart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heart")
            .field("running", &self.running.get())
            .field("config", &self.state.borrow().config)
            .finish_non_exhaustive()
    }
}

#[wasm_bindgen]
impl Heart {
    /// A heart drawing on `heart_canvas` with its ECG trace on `ecg_canvas`, at the default config.
    #[wasm_bindgen(constructor)]
    pub fn new(
        heart_canvas: HtmlCanvasElement,
        ecg_canvas: HtmlCanvasElement,
    ) -> Result<Heart, JsError> {
        let config = HeartConfig::default();
        let state = State {
            clock: PulseClock::new(config.bpm),
            config,
            pacer: FramePacer::new(),
            stats: FrameStats::default(),
            heart: Canvas::new(heart_canvas).map_err(|e| JsError::new(&e))?,
            ecg: Canvas::new(ecg_canvas).map_err(|e| JsError::new(&e))?,
            trace: VecDeque::new(),
            last_phase: 0.0,
            reduced_motion: false,
            burn_ms: 0.0,
            performance: window().performance(),
            pulse_factor: 1.0,
        };
        let heart = Heart {
            state: Rc::new(RefCell::new(state)),
            running: Rc::new(Cell::new(false)),
            scheduled: Rc::new(Cell::new(false)),
            callback: Rc::new(RefCell::new(None)),
        };
        let (state, running, scheduled, slot) = (
            heart.state.clone(),
            heart.running.clone(),
            heart.scheduled.clone(),
            heart.callback.clone(),
        );
        *heart.callback.borrow_mut() = Some(Closure::new(move |now: f64| {
            scheduled.set(false);
            if !running.get() {
                return;
            }
            state.borrow_mut().frame(now);
            if let Some(callback) = slot.borrow().as_ref() {
                schedule(callback);
                scheduled.set(true);
            }
        }));
        Ok(heart)
    }

    /// Sets one config value by name (`bpm`, `love_level`, `color`, `size`), validated by the
    /// core; the error names the value and the accepted range. Bpm changes keep the phase.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), JsError> {
        let field = Field::from_key(key)
            .ok_or_else(|| JsError::new(&format!("unknown setting `{key}`")))?;
        let mut state = self.state.borrow_mut();
        state
            .config
            .set(field, value)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let bpm = state.config.bpm;
        state.clock.set_bpm(bpm);
        Ok(())
    }

    /// The effective config as a plain object (`{love_level, bpm, color, size,
    /// alert_threshold}`).
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_object(&self.state.borrow().config)
    }

    /// The symbol glyph for the current bpm.
    pub fn symbol(&self) -> String {
        Symbol::for_bpm(self.state.borrow().config.bpm)
            .glyph()
            .to_owned()
    }

    /// The symbol's name (`resting`, `steady`, `racing`), for labels.
    pub fn symbol_name(&self) -> String {
        Symbol::for_bpm(self.state.borrow().config.bpm)
            .name()
            .to_owned()
    }

    /// Shows a calm, still heart when `on` (for `prefers-reduced-motion: reduce`).
    pub fn set_reduced_motion(&mut self, on: bool) {
        self.state.borrow_mut().reduced_motion = on;
    }

    /// Sizes the canvases in CSS pixels for `dpr` device pixels per CSS pixel.
    pub fn resize(&mut self, heart_css: f64, ecg_css_width: f64, ecg_css_height: f64, dpr: f64) {
        let mut state = self.state.borrow_mut();
        state.heart.resize(heart_css, heart_css, dpr);
        state.ecg.resize(ecg_css_width, ecg_css_height, dpr);
        state.trace.clear();
    }

    /// Starts (or resumes) the animation loop.
    pub fn start(&self) {
        self.running.set(true);
        if !self.scheduled.get()
            && let Some(callback) = self.callback.borrow().as_ref()
        {
            schedule(callback);
            self.scheduled.set(true);
        }
    }

    /// Pauses the loop (e.g. while the tab is hidden); `start()` resumes without a leap.
    pub fn pause(&self) {
        self.running.set(false);
        let mut state = self.state.borrow_mut();
        state.pacer.reset_timeline();
        state.stats.break_timeline();
    }

    /// Test hook: spend at least `ms` in every rendered frame.
    pub fn set_frame_burn_ms(&mut self, ms: f64) {
        self.state.borrow_mut().burn_ms = if ms.is_finite() {
            ms.clamp(0.0, 200.0)
        } else {
            0.0
        };
    }

    /// Frame statistics and pacing state as a plain object.
    pub fn stats(&self) -> Result<JsValue, JsError> {
        let state = self.state.borrow();
        let stats = StatsJson {
            frames: state.stats.summary(),
            mode: state.pacer.mode(),
            target_fps: state.pacer.mode().target_fps(),
            compensated_ms: state.pacer.compensated_ms(),
            phase: state.clock.phase(),
            pulse_factor: state.pulse_factor,
        };
        to_object(&stats)
    }
}

/// `value` as a plain JS object, as `JSON.parse` would give it.
fn to_object(value: &impl Serialize) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

/// The outline points `[x0, y0, x1, y1, …]` at `t` seconds for `bpm` and `love`, computed by
/// heart-core exactly as the server's `/api/heart?format=json` does.
#[wasm_bindgen]
pub fn outline_points(t: f64, bpm: u16, love: u8) -> Result<Vec<f64>, JsError> {
    let error = |e: heart_core::ConfigError| JsError::new(&e.to_string());
    let config = HeartConfig {
        bpm: Bpm::new(bpm).map_err(error)?,
        love_level: LoveLevel::new(love).map_err(error)?,
        ..HeartConfig::default()
    };
    let frame = heart_core::HeartFrame::at(&config, Seconds::new(t).map_err(error)?);
    Ok(frame
        .outline
        .points()
        .iter()
        .flat_map(|p| [p.x, p.y])
        .collect())
}

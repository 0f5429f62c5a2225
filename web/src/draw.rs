//! Drawing on 2D canvases: the heart outline filled in its colour, and the scrolling ECG trace.

use heart_core::render::Viewport;
use heart_core::{Color, HeartOutline};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// A canvas with its 2D context.
#[derive(Debug, Clone)]
pub struct Canvas {
    element: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
}

impl Canvas {
    /// Wraps `element`, or explains why it has no 2D context.
    pub fn new(element: HtmlCanvasElement) -> Result<Self, String> {
        let context = element
            .get_context("2d")
            .map_err(|_| "the canvas refused a 2d context".to_owned())?
            .ok_or_else(|| "the canvas has no 2d context".to_owned())?
            .dyn_into::<CanvasRenderingContext2d>()
            .map_err(|_| "the 2d context has an unexpected type".to_owned())?;
        Ok(Self { element, context })
    }

    /// Sizes the backing store for `css_width × css_height` CSS pixels at `dpr` device pixels
    /// per CSS pixel, so lines stay sharp on HiDPI screens.
    pub fn resize(&self, css_width: f64, css_height: f64, dpr: f64) {
        let dpr = if dpr.is_finite() && dpr > 0.0 {
            dpr
        } else {
            1.0
        };
        self.element
            .set_width((css_width * dpr).round().max(1.0) as u32);
        self.element
            .set_height((css_height * dpr).round().max(1.0) as u32);
    }

    /// Backing-store width in device pixels.
    pub fn width(&self) -> f64 {
        f64::from(self.element.width())
    }

    /// Backing-store height in device pixels.
    pub fn height(&self) -> f64 {
        f64::from(self.element.height())
    }

    /// Clears the canvas to transparent and fills `outline` in `color`, centred, scaled so the
    /// largest possible pulse fits (the same viewport as the SVG and PNG renderers).
    pub fn draw_heart(&self, outline: &HeartOutline, color: &Color) {
        let (w, h) = (self.width(), self.height());
        let side = w.min(h);
        let viewport = Viewport::new(side);
        let (dx, dy) = ((w - side) / 2.0, (h - side) / 2.0);
        let ctx = &self.context;
        ctx.clear_rect(0.0, 0.0, w, h);
        ctx.begin_path();
        for (i, point) in outline.points().iter().enumerate() {
            let (x, y) = viewport.to_pixels(*point);
            if i == 0 {
                ctx.move_to(x + dx, y + dy);
            } else {
                ctx.line_to(x + dx, y + dy);
            }
        }
        ctx.close_path();
        ctx.set_fill_style_str(&color.hex());
        ctx.fill();
    }

    /// Clears the canvas and draws `samples` (each in `[-1, 1]`, oldest first) as a trace from
    /// the left edge, one sample per device pixel column, `y = 1` at the top.
    pub fn draw_trace(&self, samples: impl Iterator<Item = f64>, color: &str) {
        let (w, h) = (self.width(), self.height());
        let ctx = &self.context;
        ctx.clear_rect(0.0, 0.0, w, h);
        ctx.begin_path();
        let mid = h / 2.0;
        let amplitude = h * 0.45;
        for (i, y) in samples.enumerate() {
            let (px, py) = (i as f64, mid - y.clamp(-1.0, 1.0) * amplitude);
            if i == 0 {
                ctx.move_to(px, py);
            } else {
                ctx.line_to(px, py);
            }
        }
        ctx.set_stroke_style_str(color);
        ctx.set_line_width((h / 60.0).max(1.0));
        ctx.stroke();
    }
}

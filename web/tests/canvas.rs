//! The drawing glue in a real headless Chromium (wasm-bindgen-test + chromedriver):
//! `cargo xtask test` runs these with `wasm-bindgen-test-runner`.
#![cfg(target_arch = "wasm32")]

use heart_core::{Color, HeartOutline};
use heart_web::draw::Canvas;
use heart_web::{Heart, outline_points};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

fn element() -> HtmlCanvasElement {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
        .create_element("canvas")
        .expect("canvas element")
        .dyn_into()
        .expect("an HtmlCanvasElement")
}

/// RGBA of the pixel at `(x, y)`.
fn pixel(canvas: &HtmlCanvasElement, x: f64, y: f64) -> Vec<u8> {
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .expect("context call")
        .expect("a 2d context")
        .dyn_into()
        .expect("2d context type");
    ctx.get_image_data(x, y, 1.0, 1.0)
        .expect("image data")
        .data()
        .0
}

#[wasm_bindgen_test]
fn resize_scales_the_backing_store_by_device_pixel_ratio() {
    let el = element();
    let canvas = Canvas::new(el.clone()).expect("2d context");
    canvas.resize(100.0, 50.0, 2.0);
    assert_eq!((el.width(), el.height()), (200, 100));
    canvas.resize(100.0, 50.0, f64::NAN);
    assert_eq!(
        (el.width(), el.height()),
        (100, 50),
        "a bad ratio falls back to 1"
    );
}

#[wasm_bindgen_test]
fn draw_heart_fills_the_centre_in_its_colour_and_leaves_corners_clear() {
    let el = element();
    let canvas = Canvas::new(el.clone()).expect("2d context");
    canvas.resize(120.0, 120.0, 1.0);
    let color = Color::parse("#00ff00").expect("valid colour");
    canvas.draw_heart(&HeartOutline::scaled(1.0), &color);
    assert_eq!(pixel(&el, 60.0, 60.0), vec![0, 255, 0, 255]);
    assert_eq!(pixel(&el, 2.0, 2.0)[3], 0, "corner stays transparent");
    assert_eq!(pixel(&el, 117.0, 117.0)[3], 0, "corner stays transparent");
}

#[wasm_bindgen_test]
fn a_bigger_pulse_covers_more_of_the_canvas() {
    let el = element();
    let canvas = Canvas::new(el.clone()).expect("2d context");
    canvas.resize(120.0, 120.0, 1.0);
    let color = Color::default();
    // A point just outside the resting outline, inside the pulsed one.
    canvas.draw_heart(&HeartOutline::scaled(1.0), &color);
    let rest = pixel(&el, 60.0, 103.0)[3];
    canvas.draw_heart(&HeartOutline::scaled(1.2), &color);
    let pulsed = pixel(&el, 60.0, 103.0)[3];
    assert!(pulsed > rest, "rest {rest}, pulsed {pulsed}");
}

#[wasm_bindgen_test]
fn draw_trace_puts_y_one_at_the_top_and_minus_one_at_the_bottom() {
    let el = element();
    let canvas = Canvas::new(el.clone()).expect("2d context");
    canvas.resize(40.0, 100.0, 1.0);
    canvas.draw_trace(std::iter::repeat_n(1.0, 40), "#ffffff");
    assert!(pixel(&el, 20.0, 5.0)[3] > 0, "y = 1 is drawn near the top");
    assert_eq!(pixel(&el, 20.0, 95.0)[3], 0);
    canvas.draw_trace(std::iter::repeat_n(-1.0, 40), "#ffffff");
    assert!(
        pixel(&el, 20.0, 95.0)[3] > 0,
        "y = -1 is drawn near the bottom"
    );
    assert_eq!(
        pixel(&el, 20.0, 5.0)[3],
        0,
        "the previous trace was cleared"
    );
}

#[wasm_bindgen_test]
fn heart_settings_are_validated_by_the_core() {
    let mut heart = Heart::new(element(), element()).expect("canvases have 2d contexts");
    assert!(heart.set("bpm", "101").is_ok());
    assert_eq!(heart.symbol(), "\u{1F493}");
    assert!(heart.set("love_level", "11").is_err());
    assert!(heart.set("mood", "happy").is_err());
    let config = heart.config().expect("the config converts");
    let bpm = js_sys::Reflect::get(&config, &"bpm".into()).expect("an object");
    assert_eq!(bpm.as_f64(), Some(101.0));
}

#[wasm_bindgen_test]
fn outline_points_are_the_cores_points() {
    let points = outline_points(0.3, 150, 10).expect("valid inputs");
    assert_eq!(points.len(), 256);
    assert!(
        outline_points(0.0, 10, 7).is_err(),
        "bpm 10 is out of range"
    );
}

//! Renderer outputs checked by parsing them back: SVG as XML, JSON with serde, PNG decoded and
//! measured (filled area against the outline's own area, metadata chunks).

mod support;

use heart_core::render::{self, Viewport};
use support::frame;

/// Area enclosed by the outline in pixels (shoelace formula) for a `size`-pixel image.
fn outline_area_px(f: &heart_core::HeartFrame) -> f64 {
    let vp = Viewport::new(f64::from(f.size.get()));
    let pts: Vec<(f64, f64)> = f
        .outline
        .points()
        .iter()
        .map(|p| vp.to_pixels(*p))
        .collect();
    let twice: f64 = (0..pts.len())
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum();
    twice.abs() / 2.0
}

#[test]
fn svg_is_well_formed_xml_with_title_path_and_metadata() {
    let f = frame(&[("bpm", "101"), ("love_level", "4")], 1.0);
    let svg = render::svg(&f);
    let doc = roxmltree::Document::parse(&svg).expect("SVG parses as XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("viewBox"), Some("0 0 256 256"));
    let title = root
        .children()
        .find(|n| n.has_tag_name("title"))
        .expect("has <title>");
    assert!(title.text().expect("title text").contains("101 bpm"));
    let meta = root
        .descendants()
        .find(|n| n.has_tag_name((render_ns(), "heart")))
        .expect("metadata element in its namespace");
    assert_eq!(meta.attribute("bpm"), Some("101"));
    assert_eq!(meta.attribute("symbol"), Some("\u{1F493}"));
    assert_eq!(meta.attribute("love-level"), Some("4"));
    let path = root
        .descendants()
        .find(|n| n.has_tag_name("path"))
        .expect("has <path>");
    let d = path.attribute("d").expect("path data");
    assert_eq!(
        d.matches('L').count(),
        127,
        "one move and 127 lines for 128 points"
    );
    assert!(d.ends_with('Z'), "outline is closed");
}

fn render_ns() -> &'static str {
    "urn:heart-display:frame"
}

#[test]
fn json_has_every_field_and_128_points() {
    let f = frame(&[("bpm", "59")], 0.5);
    let value: serde_json::Value = serde_json::from_str(&render::json(&f)).expect("valid JSON");
    for key in [
        "t",
        "phase",
        "pulse_factor",
        "bpm",
        "symbol",
        "weight",
        "love_level",
        "points",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["symbol"], "\u{2661}");
    assert_eq!(value["weight"], 0.8);
    assert_eq!(value["points"].as_array().map(Vec::len), Some(128));
}

#[test]
fn png_decodes_with_the_filled_heart_and_metadata() {
    let f = frame(
        &[
            ("bpm", "80"),
            ("love_level", "9"),
            ("color", "#00ff00"),
            ("size", "200"),
        ],
        0.2,
    );
    let bytes = render::png(&f).expect("PNG renders");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header decodes");
    let mut buf = vec![0; reader.output_buffer_size().expect("size known")];
    let info = reader.next_frame(&mut buf).expect("PNG data decodes");
    assert_eq!((info.width, info.height), (200, 200));
    assert_eq!(info.color_type, png::ColorType::Rgba);

    let pixels = &buf[..info.buffer_size()];
    let filled = pixels
        .as_chunks::<4>()
        .0
        .iter()
        .filter(|p| p[3] >= 128)
        .count() as f64;
    let expected = outline_area_px(&f);
    assert!(
        (filled - expected).abs() / expected < 0.02,
        "filled {filled} px vs outline area {expected:.0} px"
    );
    let opaque = pixels
        .as_chunks::<4>()
        .0
        .iter()
        .find(|p| p[3] == 255)
        .expect("some opaque pixel");
    assert_eq!(&opaque[..3], &[0, 255, 0], "filled in the chosen colour");
    let centre = ((100 * 200 + 100) * 4) as usize;
    assert_eq!(pixels[centre + 3], 255, "centre is inside the heart");
    assert_eq!(pixels[3], 0, "corner is transparent");

    let meta = reader.info();
    let text = |k: &str| {
        meta.uncompressed_latin1_text
            .iter()
            .find(|c| c.keyword == k)
            .map(|c| c.text.clone())
    };
    assert_eq!(text("bpm").as_deref(), Some("80"));
    assert_eq!(text("love-level").as_deref(), Some("9"));
    assert_eq!(text("symbol").as_deref(), Some("steady"));
    assert_eq!(text("color").as_deref(), Some("#00ff00"));
    let glyph = meta
        .utf8_text
        .iter()
        .find(|c| c.keyword == "symbol-glyph")
        .expect("iTXt glyph");
    assert_eq!(glyph.get_text().expect("utf-8 text"), "\u{2764}\u{FE0F}");
}

#[test]
fn bigger_pulse_fills_more_pixels() {
    let rest = frame(&[("love_level", "10")], 0.0);
    let peak = frame(&[("love_level", "10")], 0.25);
    let count = |f: &heart_core::HeartFrame| {
        let bytes = render::png(f).expect("renders");
        let mut r = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("decodes");
        let mut buf = vec![0; r.output_buffer_size().expect("size")];
        r.next_frame(&mut buf).expect("frame");
        buf.as_chunks::<4>()
            .0
            .iter()
            .filter(|p| p[3] >= 128)
            .count()
    };
    assert!(count(&peak) as f64 > count(&rest) as f64 * 1.2);
}

/// A frame carrying runtime figures: SVG `<runtime>` attributes, JSON `runtime` members and PNG
/// `runtime-*` chunks give the same values; unknown figures are `null` in JSON and absent
/// elsewhere; a frame without figures has none of them.
#[test]
fn runtime_figures_travel_in_every_format() {
    let figures = heart_core::RuntimeFigures {
        memory_bytes: 1_310_720,
        requests: 3,
        age_ms: 20.484,
        config_generation: Some(2),
        pod: None,
    };
    let f = frame(&[("size", "32")], 0.5).with_runtime(Some(figures));
    let expected = [
        ("memory-bytes", "1310720"),
        ("requests", "3"),
        ("age-ms", "20.484"),
        ("config-generation", "2"),
    ];

    let svg = render::svg(&f);
    let doc = roxmltree::Document::parse(&svg).expect("SVG parses as XML");
    let runtime = doc
        .descendants()
        .find(|n| n.has_tag_name((render::METADATA_NAMESPACE, "runtime")))
        .expect("a <runtime> element");
    let attributes: Vec<(&str, &str)> = runtime
        .attributes()
        .map(|a| (a.name(), a.value()))
        .collect();
    assert_eq!(attributes, expected);

    let json: serde_json::Value = serde_json::from_str(&render::json(&f)).expect("JSON");
    assert_eq!(
        json["runtime"],
        serde_json::json!({
            "memory_bytes": 1_310_720, "requests": 3, "age_ms": 20.484,
            "config_generation": 2, "pod": null,
        })
    );

    let png = render::png(&f).expect("PNG");
    let reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .expect("PNG decodes");
    let chunks: Vec<(String, String)> = reader
        .info()
        .uncompressed_latin1_text
        .iter()
        .filter(|c| c.keyword.starts_with("runtime-"))
        .map(|c| (c.keyword.clone(), c.text.clone()))
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (format!("runtime-{k}"), (*v).to_owned()))
        .collect();
    assert_eq!(chunks, want);

    let plain = frame(&[("size", "32")], 0.5);
    assert!(!render::svg(&plain).contains("<runtime"));
    assert!(!render::json(&plain).contains("runtime"));
}

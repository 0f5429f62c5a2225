//! SVG renderer: a titled, accessible SVG with the outline as one closed path.

use crate::frame::HeartFrame;
use crate::render::fixed2::push_fixed2;
use crate::render::viewport::Viewport;

/// Namespace of the `<metadata>` element that carries the frame's values.
pub const METADATA_NAMESPACE: &str = "urn:heart-display:frame";

/// Renders `frame` as a standalone SVG document. Every value written comes from validated
/// types (numbers, a symbol, a colour that is `#rrggbb`, a pod name), so no text needs
/// escaping. The runtime's figures, when the frame has them, are a `<runtime>` element beside
/// `<heart>` in the metadata, one attribute per known figure.
pub fn svg(frame: &HeartFrame) -> String {
    let size = frame.size.get();
    let viewport = Viewport::new(f64::from(size));
    // Built as bytes (every piece is ASCII) and checked as UTF-8 once.
    let mut path = Vec::with_capacity(frame.outline.points().len() * 16);
    for (i, point) in frame.outline.points().iter().enumerate() {
        let (x, y) = viewport.to_pixels(*point);
        path.push(if i == 0 { b'M' } else { b'L' });
        push_fixed2(&mut path, x);
        path.push(b' ');
        push_fixed2(&mut path, y);
        path.push(b' ');
    }
    path.push(b'Z');
    let path = String::from_utf8(path).expect("the path is ASCII");
    let runtime = frame.runtime.as_ref().map_or_else(String::new, |figures| {
        let attributes: String = figures
            .fields()
            .iter()
            .map(|(name, value)| format!(" {name}=\"{value}\""))
            .collect();
        format!(r#"<runtime xmlns="{METADATA_NAMESPACE}"{attributes}/>"#)
    });
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" "#,
            r#"viewBox="0 0 {size} {size}" role="img" aria-labelledby="heart-title">"#,
            "\n  <title id=\"heart-title\">{title}</title>\n",
            r#"  <metadata><heart xmlns="{ns}" bpm="{bpm}" symbol="{glyph}" symbol-name="{name}" "#,
            r#"weight="{weight:.1}" love-level="{love}" t="{t}" phase="{phase:.6}" "#,
            r#"pulse-factor="{pulse:.6}" color="{color}"/>{runtime}</metadata>"#,
            "\n  <path d=\"{path}\" fill=\"{color}\"/>\n</svg>\n"
        ),
        size = size,
        title = frame.title(),
        ns = METADATA_NAMESPACE,
        bpm = frame.bpm,
        glyph = frame.symbol.glyph(),
        name = frame.symbol.name(),
        weight = frame.symbol.weight(),
        love = frame.love_level,
        t = frame.t,
        phase = frame.phase,
        pulse = frame.pulse_factor,
        color = frame.color.hex(),
        runtime = runtime,
        path = path,
    )
}

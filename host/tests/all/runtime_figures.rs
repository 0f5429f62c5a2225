//! Heart frames carry the serving instance's own figures — its linear memory, the requests it
//! has served, its age, the config generation it read and its pod — in every format: the JSON
//! `runtime` object, the SVG `<runtime>` metadata element and the PNG `runtime-*` text chunks.
//! They tell a fresh instance from a reused one, and the frames match their golden files with
//! the varying figures masked (not dropped). Both WASI builds, in the real host.

use std::path::PathBuf;

use crate::support::{BUILDS, Host, Options, Reply};

const POD: &str = "heart-display-0";

/// The figures as `(name, value)` pairs, from whichever format `reply` is; the JSON names are
/// written as the SVG and PNG ones are (`memory-bytes`), and unknown (`null`) figures are left
/// out, as the other formats leave them out.
fn figures(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    match reply.header("content-type") {
        Some("application/json") => json_figures(&reply.json()),
        Some("image/svg+xml") => svg_figures(&reply.text()),
        Some("image/png") => png_text(&reply.body)
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("runtime-")?.to_owned(), v)))
            .collect(),
        other => panic!("not a frame: {other:?}"),
    }
}

fn json_figures(frame: &serde_json::Value) -> Vec<(String, String)> {
    let runtime = frame["runtime"]
        .as_object()
        .unwrap_or_else(|| panic!("no runtime object in {frame}"));
    runtime
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k.replace('_', "-"), value)
        })
        .collect()
}

fn svg_figures(svg: &str) -> Vec<(String, String)> {
    let document = roxmltree::Document::parse(svg).expect("the SVG is XML");
    let runtime = document
        .descendants()
        .find(|n| n.has_tag_name(("urn:heart-display:frame", "runtime")))
        .unwrap_or_else(|| panic!("no <runtime> in the metadata:\n{svg}"));
    runtime
        .attributes()
        .map(|a| (a.name().to_owned(), a.value().to_owned()))
        .collect()
}

/// The PNG's Latin-1 text chunks, in file order.
fn png_text(bytes: &[u8]) -> Vec<(String, String)> {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    reader
        .info()
        .uncompressed_latin1_text
        .iter()
        .map(|chunk| (chunk.keyword.clone(), chunk.text.clone()))
        .collect()
}

fn figure(figures: &[(String, String)], name: &str) -> String {
    figures
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} in {figures:?}"))
}

fn number(figures: &[(String, String)], name: &str) -> f64 {
    let value = figure(figures, name);
    value
        .parse()
        .unwrap_or_else(|e| panic!("{name} `{value}`: {e}"))
}

#[test]
fn every_format_carries_the_figures_and_a_reused_instance_counts_on() {
    for (build, wasm) in BUILDS {
        let host = Host::start(Options {
            wasm,
            env: &[("POD_NAME", POD)],
            args: &["--instance-reuse", "100"],
            ..Options::default()
        });
        let mut last_age = -1.0;
        for (request, path) in ["/heart.json", "/heart.svg", "/heart.png", "/heart.json"]
            .into_iter()
            .enumerate()
        {
            let figures = figures(&host.get(path, None));
            let mut names: Vec<&str> = figures.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            assert_eq!(
                names,
                [
                    "age-ms",
                    "config-generation",
                    "memory-bytes",
                    "pod",
                    "requests"
                ],
                "{build} {path}"
            );
            let memory = number(&figures, "memory-bytes");
            assert!(
                memory >= 65_536.0 && memory % 65_536.0 == 0.0,
                "{build} {path}: whole Wasm pages, got {memory}"
            );
            assert_eq!(
                number(&figures, "requests"),
                (request + 1) as f64,
                "{build} {path}: one instance served every request so far"
            );
            let age = number(&figures, "age-ms");
            if request == 0 {
                assert_eq!(age, 0.0, "{build}: a fresh instance has no age");
            } else {
                assert!(age > last_age, "{build} {path}: {age} after {last_age}");
            }
            last_age = age;
            assert_eq!(figure(&figures, "config-generation"), "1", "{build}");
            assert_eq!(figure(&figures, "pod"), POD, "{build}");
        }
    }
}

#[test]
fn without_reuse_every_frame_comes_from_a_fresh_instance() {
    let host = Host::start(Options::default());
    for _ in 0..3 {
        let figures = figures(&host.get("/heart.json", None));
        assert_eq!(
            (number(&figures, "requests"), number(&figures, "age-ms")),
            (1.0, 0.0)
        );
        assert!(
            !figures.iter().any(|(n, _)| n == "pod"),
            "no POD_NAME, no pod: {figures:?}"
        );
    }
}

#[test]
fn a_pod_name_that_is_not_one_is_left_out_with_a_message() {
    let host = Host::start(Options {
        env: &[("POD_NAME", "Not A Pod!")],
        ..Options::default()
    });
    let frame = host.get("/heart.json", None).json();
    assert_eq!(frame["runtime"]["pod"], serde_json::Value::Null, "{frame}");
    assert_eq!(frame["runtime"]["requests"], 1, "the other figures stay");
    let log = host.stderr_until("is not a pod name");
    let line = log.last().expect("the guest's message");
    assert!(
        line.contains("`Not A Pod!`") && line.contains("1 to 253 characters"),
        "names the value and the accepted form: {line}"
    );
}

/// The frame at a fixed time, size and config, in every format, matches its golden file with
/// the runtime's figures masked.
#[test]
fn frames_match_their_goldens_with_the_figures_masked() {
    for (build, wasm) in BUILDS {
        let host = Host::start(Options {
            wasm,
            env: &[("POD_NAME", POD)],
            ..Options::default()
        });
        let query = "?t=0.25&size=48";
        let json = host.get(&format!("/heart.json{query}"), None);
        assert_golden(build, "frame.json", &masked_json(&json.json()));
        let svg = host.get(&format!("/heart.svg{query}"), None);
        assert_golden(build, "frame.svg", &masked_svg(&svg.text()));
        let png = host.get(&format!("/heart.png{query}"), None);
        assert_golden(build, "frame.png.txt", &masked_png(&png.body));
    }
}

/// Where a figure's value was.
const MASK: &str = "masked";

fn masked_json(frame: &serde_json::Value) -> String {
    let mut frame = frame.clone();
    let runtime = frame["runtime"]
        .as_object_mut()
        .unwrap_or_else(|| panic!("no runtime object"));
    for value in runtime.values_mut() {
        *value = MASK.into();
    }
    serde_json::to_string_pretty(&frame).expect("JSON") + "\n"
}

fn masked_svg(svg: &str) -> String {
    let start = svg.find("<runtime ").expect("a <runtime> element");
    let end = start + svg[start..].find("/>").expect("the element ends");
    let masked: Vec<String> = svg[start..end]
        .split(' ')
        .map(|part| match part.split_once('=') {
            Some((name, _)) if name != "xmlns" => format!("{name}=\"{MASK}\""),
            _ => part.to_owned(),
        })
        .collect();
    format!("{}{}{}", &svg[..start], masked.join(" "), &svg[end..])
}

/// The PNG's dimensions and text chunks, one per line, the runtime's values masked.
fn masked_png(bytes: &[u8]) -> String {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    let info = reader.info();
    let mut out = format!("{}x{} {:?}\n", info.width, info.height, info.color_type);
    for (keyword, text) in png_text(bytes) {
        let text = if keyword.starts_with("runtime-") {
            MASK.to_owned()
        } else {
            text
        };
        out.push_str(&format!("{keyword}: {text}\n"));
    }
    out
}

/// Compares `actual` with `tests/all/golden/<name>` (both builds answer the same).
fn assert_golden(build: &str, name: &str, actual: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/all/golden");
    heart_testing::golden::assert_golden(&dir, name, build, actual);
}

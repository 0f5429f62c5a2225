//! Compressed answers, through the real host and components: every coded answer decodes to the
//! identity answer (the page's files precompressed by the component in Brotli and gzip, frames
//! gzip-compressed by the host), each says it varies with `Accept-Encoding`, and PNG and the
//! `/live` stream are never coded.

use std::io::Read;

use crate::support::{Host, Options, Reply};

/// Decodes `body` as `coding` says.
fn decoded(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("valid gzip"),
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut out)
            .expect("valid Brotli"),
        other => panic!("unexpected coding {other}"),
    };
    out
}

fn get(host: &Host, path: &str, accept_encoding: &str) -> Reply {
    let reply = host.get_with_headers(path, &[("accept-encoding", accept_encoding)]);
    assert_eq!(
        reply.status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply
}

/// The part of an answer that does not change between two requests: a JSON frame's runtime
/// figures (instance age, requests served) do.
fn stable(path: &str, body: Vec<u8>) -> Vec<u8> {
    if path.starts_with("/heart.json") {
        let mut frame: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        frame.as_object_mut().expect("an object").remove("runtime");
        return serde_json::to_vec(&frame).expect("JSON");
    }
    body
}

fn coded_answers_decode_to_the_identity_answer(wasm: &str) {
    let host = Host::start(Options {
        wasm,
        ..Options::default()
    });
    // The page's files come in either coding (Brotli preferred); frames in gzip only.
    let page = ["/", "/app.js", "/heart_web.js", "/heart_web_bg.wasm"];
    let frames = [
        "/heart.svg?t=0.25",
        "/heart.json?t=0.25",
        "/heart.txt?t=0.25",
    ];
    for path in page.iter().chain(&frames) {
        let is_page = page.contains(path);
        let identity = get(&host, path, "identity");
        assert_eq!(identity.header("content-encoding"), None, "{path}");
        assert!(
            identity
                .header("vary")
                .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
            "{path}: Vary {:?}",
            identity.header("vary")
        );
        for coding in ["gzip", "br"] {
            let coded = get(&host, path, coding);
            if coding == "br" && !is_page {
                assert_eq!(coded.header("content-encoding"), None, "{path} as br");
                continue;
            }
            assert_eq!(coded.header("content-encoding"), Some(coding), "{path}");
            assert_eq!(
                coded.header("content-type"),
                identity.header("content-type")
            );
            assert!(
                coded.body.len() < identity.body.len(),
                "{path} as {coding}: {} bytes, identity {}",
                coded.body.len(),
                identity.body.len()
            );
            assert_eq!(
                stable(path, decoded(coding, &coded.body)),
                stable(path, identity.body.clone()),
                "{path} as {coding}, decoded"
            );
        }
        // What browsers send.
        let browser = get(&host, path, "gzip, deflate, br, zstd");
        let expected = if is_page { "br" } else { "gzip" };
        assert_eq!(browser.header("content-encoding"), Some(expected), "{path}");
    }
    // No field: identity, as before.
    let plain = host.get("/heart.svg?t=0.25", None);
    assert_eq!(plain.header("content-encoding"), None);
}

#[test]
fn coded_answers_of_the_wasi_0_2_component_decode_to_the_identity_answer() {
    coded_answers_decode_to_the_identity_answer("heart_http.wasm");
}

#[test]
fn coded_answers_of_the_wasi_0_3_component_decode_to_the_identity_answer() {
    coded_answers_decode_to_the_identity_answer("heart_http_p3.wasm");
}

#[test]
fn png_and_the_live_stream_are_never_coded() {
    let host = Host::start(Options::default());
    let png = get(&host, "/heart.png?t=0.25", "gzip, br");
    assert_eq!(png.header("content-encoding"), None);
    assert!(png.body.starts_with(b"\x89PNG"));
    let live = get(&host, "/live?seconds=1&fps=10&ascii=1", "gzip, br");
    assert_eq!(live.header("content-encoding"), None);
    let text = live.text();
    assert!(text.contains("<3") && text.contains("Ctrl-C"), "{text}");
}

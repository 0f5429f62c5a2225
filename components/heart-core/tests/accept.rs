//! `api::reads_accept` and `api::reads_accept_encoding` against `api::handle`: a path they say
//! does not read `Accept` (`Accept-Encoding`) is answered the same whatever the field says (so
//! an adapter may skip reading it), and the paths they name do answer differently.

use heart_core::HeartConfig;
use heart_core::api::{self, ApiRequest, Asset, Coding, Encoded};

const ASSETS: &[Asset] = &[Asset {
    path: "/",
    content_type: "text/html; charset=utf-8",
    body: b"<!doctype html>",
    cache_control: "no-cache",
    // Not real gzip: the routes pick bytes, they never decode them.
    encoded: &[Encoded {
        coding: Coding::Gzip,
        body: b"gzipped",
    }],
}];

const PATHS: &[&str] = &[
    "/api/heart",
    "/heart.svg",
    "/heart.json",
    "/heart.png",
    "/heart.txt",
    "/api/pulse",
    "/api/symbol",
    "/api/config",
    "/api/presence",
    "/",
    "/nowhere",
];

const QUERIES: &[&str] = &["", "bpm=120", "format=json", "bpm=oops", "nope=1"];

const ACCEPTS: &[&str] = &["image/png", "application/json", "text/plain", "video/mp4"];

fn answer(method: &str, path: &str, query: &str, accept: Option<&str>) -> api::ApiResponse {
    let request = ApiRequest::new(method, path, query, accept);
    api::handle(&request, &HeartConfig::default(), ASSETS)
}

#[test]
fn paths_that_do_not_read_accept_answer_the_same_whatever_it_says() {
    for path in PATHS.iter().filter(|p| !api::reads_accept(p)) {
        for method in ["GET", "HEAD", "POST"] {
            for query in QUERIES {
                let without = answer(method, path, query, None);
                for accept in ACCEPTS {
                    assert_eq!(
                        answer(method, path, query, Some(accept)),
                        without,
                        "{method} {path}?{query} with Accept: {accept}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_negotiating_route_reads_accept() {
    assert!(api::reads_accept("/api/heart"));
    let svg = answer("GET", "/api/heart", "", None);
    let png = answer("GET", "/api/heart", "", Some("image/png"));
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert_eq!(png.header("content-type"), Some("image/png"));
}

const ACCEPT_ENCODINGS: &[&str] = &["gzip", "br, gzip", "*", "identity"];

fn answer_encoded(method: &str, path: &str, query: &str, coding: Option<&str>) -> api::ApiResponse {
    let request = ApiRequest {
        accept_encoding: coding,
        ..ApiRequest::new(method, path, query, None)
    };
    api::handle(&request, &HeartConfig::default(), ASSETS)
}

#[test]
fn paths_that_do_not_read_accept_encoding_answer_the_same_whatever_it_says() {
    for path in PATHS.iter().filter(|p| !api::reads_accept_encoding(p)) {
        for method in ["GET", "HEAD", "POST"] {
            for query in QUERIES {
                let without = answer_encoded(method, path, query, None);
                for coding in ACCEPT_ENCODINGS {
                    assert_eq!(
                        answer_encoded(method, path, query, Some(coding)),
                        without,
                        "{method} {path}?{query} with Accept-Encoding: {coding}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_static_file_is_sent_in_the_accepted_coding_and_says_it_varies() {
    assert!(api::reads_accept_encoding("/"));
    assert!(!api::reads_accept_encoding("/heart.svg"));
    assert!(!api::reads_accept_encoding(api::LIVE_PATH));
    let plain = answer_encoded("GET", "/", "", None);
    let gzip = answer_encoded("GET", "/", "", Some("gzip, deflate, br"));
    assert_eq!(plain.body, b"<!doctype html>");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(gzip.body, b"gzipped");
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    for response in [plain, gzip] {
        assert_eq!(response.header("vary"), Some("accept-encoding"));
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }
}

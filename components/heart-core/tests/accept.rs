//! `api::reads_accept` against `api::handle`: a path it says does not read `Accept` is answered
//! the same whatever `Accept` says (so an adapter may skip reading the header), and the path it
//! names does answer differently.

use heart_core::HeartConfig;
use heart_core::api::{self, ApiRequest, Asset};

const ASSETS: &[Asset] = &[Asset {
    path: "/",
    content_type: "text/html; charset=utf-8",
    body: b"<!doctype html>",
    cache_control: "no-cache",
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

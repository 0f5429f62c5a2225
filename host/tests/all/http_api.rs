//! The real host serving the real components (WASI 0.2 and 0.3 builds) over real HTTP.

use std::time::Duration;

use heart_core::api::ApiRequest;
use heart_core::{HeartConfig, RuntimeFigures};

use crate::support;
use crate::support::{Host, Options, SERVED_BUILDS};

fn start(wasm: &str) -> Host {
    Host::start(Options {
        wasm,
        ..Options::default()
    })
}

/// heart-core's own answer to `GET path?query` under the default config, as JSON, with
/// runtime figures as a component adds them.
fn core_answer(path: &str, query: &str) -> serde_json::Value {
    let figures = RuntimeFigures {
        memory_bytes: 65_536,
        requests: 1,
        age_ms: 0.0,
        config_generation: None,
        pod: None,
    };
    let request = ApiRequest {
        method: "GET",
        path,
        query,
        accept: None,
        accept_encoding: None,
        runtime: Some(&figures),
    };
    let answer = heart_core::api::handle(&request, &HeartConfig::default(), &[]);
    assert_eq!(answer.status, 200, "heart-core answers {path}?{query}");
    serde_json::from_slice(&answer.body).expect("heart-core's JSON")
}

/// The keys of a JSON object, sorted.
fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn every_route_and_format_answers_for_every_build() {
    for (build, wasm) in SERVED_BUILDS {
        let host = start(wasm);

        let svg = host.get("/api/heart?format=svg&bpm=101&t=0.2", None);
        assert_eq!(svg.status, 200, "{build}");
        assert_eq!(svg.header("content-type"), Some("image/svg+xml"), "{build}");
        let text = svg.text();
        let doc = roxmltree::Document::parse(&text).expect("SVG parses as XML");
        assert!(doc.descendants().any(|n| n.has_tag_name("path")), "{build}");
        assert!(text.contains("101 bpm"), "{build}");

        let json = host.get("/heart.json?love=3&t=1", None).json();
        assert_eq!(
            keys(&json),
            keys(&core_answer("/heart.json", "love=3&t=1")),
            "{build}: the served frame has the fields heart-core renders"
        );
        assert_eq!(json["love_level"], 3, "{build}");
        assert_eq!(
            json["points"].as_array().map(Vec::len),
            Some(128),
            "{build}"
        );

        let png = host.get("/heart.png?size=64&bpm=50", None);
        assert_eq!(png.header("content-type"), Some("image/png"), "{build}");
        let mut reader = png::Decoder::new(std::io::Cursor::new(png.body))
            .read_info()
            .expect("PNG decodes");
        let mut pixels = vec![0; reader.output_buffer_size().expect("size known")];
        let info = reader.next_frame(&mut pixels).expect("PNG frame decodes");
        assert_eq!((info.width, info.height), (64, 64), "{build}");
        let bpm = reader
            .info()
            .uncompressed_latin1_text
            .iter()
            .find(|c| c.keyword == "bpm")
            .map(|c| c.text.clone());
        assert_eq!(bpm.as_deref(), Some("50"), "{build}: tEXt metadata");
        assert!(
            pixels
                .as_chunks::<4>()
                .0
                .iter()
                .filter(|p| p[3] > 127)
                .count()
                > 500,
            "{build}: heart is filled"
        );

        let txt = host.get("/heart.txt", None);
        assert_eq!(
            txt.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{build}"
        );
        assert!(
            txt.text().contains('\u{2665}'),
            "{build}: the text heart is drawn"
        );
        assert!(
            host.get("/heart.txt?ascii=1", None).text().is_ascii(),
            "{build}"
        );

        let pulse = host
            .get("/api/pulse?bpm=60&samples=50&window=1", None)
            .json();
        let samples = pulse["samples"].as_array().expect("samples");
        assert_eq!(samples.len(), 50, "{build}");
        assert!(
            samples
                .iter()
                .all(|s| s["y"].as_f64().is_some_and(|y| (-1.0..=1.0).contains(&y)))
        );

        let symbol = host.get("/api/symbol?bpm=59", None).json();
        assert_eq!(symbol["symbol"], "\u{2661}", "{build}");
        assert_eq!(symbol["weight"], 0.8, "{build}");

        let config = host.get("/api/config", None).json();
        assert_eq!(config["love_level"], 7, "{build}: spin.toml default");
        assert_eq!(config["bpm"], 72, "{build}");

        let page = host.get("/", None);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{build}"
        );
        assert!(
            page.text().contains("<title>heart-display</title>"),
            "{build}"
        );
        let bundle = host.get("/heart_web_bg.wasm", None);
        assert_eq!(
            bundle.status, 200,
            "{build}: the browser bundle is embedded"
        );
        assert_eq!(bundle.header("content-type"), Some("application/wasm"));
        assert!(bundle.body.starts_with(b"\0asm"), "{build}");
        // Far larger than one write of the guest's body stream: every chunk arrives, in order.
        let built = std::fs::read(support::root().join("dist/web/heart_web_bg.wasm"))
            .expect("the browser bundle is built");
        assert!(bundle.body == built, "{build}: the bundle arrives whole");
    }
}

#[test]
fn accept_header_chooses_the_format() {
    for (build, wasm) in SERVED_BUILDS {
        let host = start(wasm);
        let cases = [
            (None, "image/svg+xml"),
            (Some("application/json"), "application/json"),
            (Some("image/png"), "image/png"),
            (Some("text/plain"), "text/plain; charset=utf-8"),
            (
                Some("text/html,application/xhtml+xml,*/*;q=0.8"),
                "image/svg+xml",
            ),
            (
                Some("image/svg+xml;q=0.1, application/json;q=0.9"),
                "application/json",
            ),
        ];
        for (accept, expected) in cases {
            let reply = host.get("/api/heart", accept);
            assert_eq!(reply.status, 200, "{build} {accept:?}");
            assert_eq!(
                reply.header("content-type"),
                Some(expected),
                "{build} {accept:?}"
            );
            assert_eq!(reply.header("vary"), Some("accept"), "{build}");
        }
        let refused = host.get("/api/heart", Some("text/html"));
        assert_eq!(refused.status, 406, "{build}");
        assert!(
            refused.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("text/html"))
        );
        let explicit = host.get("/api/heart?format=json", Some("image/png"));
        assert_eq!(
            explicit.header("content-type"),
            Some("application/json"),
            "format= wins over Accept"
        );
    }
}

#[test]
fn accept_field_lines_are_read_as_one_list() {
    for (build, wasm) in SERVED_BUILDS {
        let host = start(wasm);
        // Only the first line would give PNG, only the last plain text; together JSON wins.
        let reply = host.get_with_headers(
            "/api/heart",
            &[
                ("accept", "image/png;q=0.5"),
                ("accept", "application/json"),
                ("accept", "text/plain;q=0.1"),
            ],
        );
        assert_eq!(reply.status, 200, "{build}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{build}"
        );
    }
}

#[test]
fn bad_parameters_get_400_json_naming_the_field_and_range() {
    // One case per line: the request, the field the error names, and text the error holds.
    const CASES: &str = "\
/api/heart?love=11 | love | love level `11` is out of range 1..=10\n\
/api/heart?love=0 | love | out of range 1..=10\n\
/api/heart?bpm=abc | bpm | bpm `abc` is not a whole number; expected 30..=220\n\
/api/heart?bpm=221 | bpm | 30..=220\n\
/api/heart?size=8 | size | size `8` is out of range 16..=1024\n\
/api/heart?color=rgb(1,2,3) | color | not a CSS hex colour\n\
/api/heart?t=-1 | t | time `-1` is out of range 0..=1000000\n\
/api/heart?t=NaN | t | time `NaN` is not a number\n\
/api/heart?format=gif | format | format `gif` is not one of: svg, json, png, txt\n\
/api/heart?ascii=maybe | ascii | ascii `maybe`\n\
/api/heart?lvoe=9 | lvoe | unknown query parameter `lvoe`\n\
/api/heart?bpm=60&bpm=90 | bpm | given more than once\n\
/heart.svg?format=png | format | unknown query parameter `format`\n\
/api/pulse?samples=0 | samples | samples `0` is out of range 1..=2000\n\
/api/pulse?window=100 | window | window `100` is out of range 0.1..=60\n\
/api/symbol?bpm=1e3 | bpm | not a whole number\n\
/api/config?x=1 | x | this route accepts: no parameters";
    let cases: Vec<[&str; 3]> = CASES
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, " | ");
            [(); 3].map(|()| parts.next().expect("three parts per case"))
        })
        .collect();
    for (build, wasm) in SERVED_BUILDS {
        let host = start(wasm);
        for [path, field, message] in &cases {
            let reply = host.get(path, None);
            assert_eq!(reply.status, 400, "{build} {path}: {}", reply.text());
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{build} {path}"
            );
            let body = reply.json();
            assert_eq!(body["field"], *field, "{build} {path}");
            let error = body["error"].as_str().expect("error text");
            assert!(error.contains(message), "{build} {path}: {error}");
        }
    }
}

#[test]
fn unknown_routes_are_404_and_other_methods_405_with_allow() {
    for (build, wasm) in SERVED_BUILDS {
        let host = start(wasm);
        let missing = host.get("/no/such/page", None);
        assert_eq!(missing.status, 404, "{build}");
        assert!(
            missing.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("/no/such/page"))
        );
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let reply = host.request(method, "/api/heart", Some(b"x"));
            assert_eq!(reply.status, 405, "{build} {method}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{build} {method}");
        }
        let head = host.request("HEAD", "/api/heart", None);
        assert_eq!(head.status, 200, "{build}");
        assert!(head.body.is_empty(), "{build}: HEAD has no body");
    }
}

#[test]
fn health_routes_are_answered_by_the_host() {
    let host = start("heart_http.wasm");
    for (path, body) in [
        ("/healthz", "ok\n"),
        ("/readyz", "ready\n"),
        ("/.well-known/spin/health", "OK"),
    ] {
        let reply = host.get(path, None);
        assert_eq!((reply.status, reply.text().as_str()), (200, body), "{path}");
    }
}

#[test]
fn spin_variables_from_the_environment_reach_the_component() {
    for (build, wasm) in SERVED_BUILDS {
        let env = [
            ("SPIN_VARIABLE_LOVE_LEVEL", "9"),
            ("SPIN_VARIABLE_BPM", "130"),
            ("SPIN_VARIABLE_COLOR", "#00ff00"),
        ];
        // The env-config builds read the same settings from their WASI environment.
        let component_env = [
            ("HEART_LOVE_LEVEL", "9"),
            ("HEART_BPM", "130"),
            ("HEART_COLOR", "#00ff00"),
        ];
        let host = if build.starts_with("env-config") {
            Host::start(Options {
                wasm,
                component_env: &component_env,
                ..Options::default()
            })
        } else {
            Host::start(Options {
                wasm,
                env: &env,
                ..Options::default()
            })
        };
        let config = host.get("/api/config", None).json();
        assert_eq!(config["love_level"], 9, "{build}");
        assert_eq!(config["bpm"], 130, "{build}");
        let frame = host.get("/heart.json", None).json();
        assert_eq!(
            frame["love_level"], 9,
            "{build}: rendering uses the variable"
        );
        assert_eq!(frame["symbol"], "\u{1F493}", "{build}: 130 bpm is racing");
        assert_eq!(frame["color"], "#00ff00", "{build}");
        let overridden = host.get("/heart.json?love=2", None).json();
        assert_eq!(
            overridden["love_level"], 2,
            "{build}: query overrides the variable"
        );
    }
}

#[test]
fn invalid_variables_stop_the_start_with_a_clear_message() {
    let stderr = support::start_failure(&Options {
        env: &[("SPIN_VARIABLE_LOVE_LEVEL", "11")],
        ..Options::default()
    });
    assert!(
        stderr.contains("love level `11` is out of range 1..=10"),
        "{stderr}"
    );
}

#[test]
fn compile_cache_makes_the_second_start_a_cache_hit() {
    let cache = tempfile::tempdir().expect("temp dir");
    let cache_dir = cache.path().to_str().expect("utf-8 temp path");
    let args = ["--cache-dir", cache_dir];
    let first = Host::start(Options {
        args: &args,
        ..Options::default()
    });
    assert_eq!(first.get("/api/symbol", None).status, 200);
    let first_log = first.stderr_until("component ready").join("\n");
    drop(first);
    assert!(first_log.contains("Compiled"), "{first_log}");
    assert_eq!(
        std::fs::read_dir(cache.path()).expect("cache dir").count(),
        1,
        "one entry written"
    );

    let second = Host::start(Options {
        args: &args,
        ..Options::default()
    });
    assert_eq!(second.get("/api/symbol", None).status, 200);
    let second_log = second.stderr_until("component ready").join("\n");
    assert!(second_log.contains("Hit"), "{second_log}");
}

#[test]
fn sigterm_stops_the_host_cleanly() {
    let mut host = start("heart_http.wasm");
    assert_eq!(host.get("/healthz", None).status, 200);
    assert_eq!(host.terminate(Duration::from_secs(15)), Some(0));
}

/// The signal handlers are in place when the host says it listens: a SIGTERM sent at once is
/// a graceful stop, never the default action (death by signal). It was 5 times in 20 before.
#[test]
fn a_sigterm_right_after_the_listening_line_is_a_graceful_stop() {
    for attempt in 0..10 {
        let mut host = start("heart_http.wasm");
        assert_eq!(
            host.terminate(Duration::from_secs(15)),
            Some(0),
            "attempt {attempt}"
        );
    }
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    let host = Host::start(Options {
        args: &["--log-format", "json"],
        ..Options::default()
    });
    assert_eq!(host.get("/healthz", None).status, 200);
    let lines = host.stderr_until("component ready");
    assert!(!lines.is_empty(), "the host logs at start-up");
    for line in &lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            value["level"].is_string() && value["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("component ready")),
        "{lines:?}"
    );
}

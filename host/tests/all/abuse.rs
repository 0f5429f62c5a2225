//! HTTP abuse against the real host and component: oversized and garbled requests, traversal
//! attempts, odd methods, non-UTF-8, repeated parameters and silly numbers. Every case gets a
//! 4xx — with a JSON error naming the problem where HTTP lets the app answer, or the protocol
//! layer's 4xx / a closed connection for protocol violations — never a 5xx; the host serves
//! normally afterwards.

use crate::support;
use crate::support::Host;

/// Sends raw bytes and returns the status code (None when the host closed the connection
/// without answering) and the body text.
fn raw(host: &Host, request: &[u8]) -> (Option<u16>, String) {
    let text = support::exchange(host, request);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

/// The payload of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}

#[test]
fn hostile_requests_get_4xx_and_the_host_keeps_serving() {
    let host = Host::start(support::Options::default());
    let long_number = "9".repeat(300);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        // (case, request, expected status, text the JSON error must contain)
        ("traversal", get("/../../etc/passwd"), 404, "no route for `/../../etc/passwd`"),
        ("encoded traversal", get("/%2e%2e/%2e%2e/etc/passwd"), 404, "no route"),
        ("encoded slash traversal", get("/..%2f..%2fetc%2fpasswd"), 404, "no route"),
        ("asset traversal", get("/heart_web.js/../../Cargo.toml"), 404, "no route"),
        ("unknown method", b"BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), 405, "method `BREW` is not allowed"),
        ("non-UTF-8 value", get("/api/heart?color=%ff"), 400, "is not a CSS hex colour"),
        ("repeated parameter", get("/api/heart?bpm=60&bpm=70"), 400, "query parameter `bpm` is given more than once"),
        ("NaN", get("/api/heart?t=NaN"), 400, "time `NaN` is not a number; expected 0..=1000000"),
        ("infinity", get("/api/heart?t=inf"), 400, "expected 0..=1000000"),
        ("negative", get("/api/heart?bpm=-5"), 400, "bpm `-5` is out of range 30..=220"),
        ("huge number", get(&format!("/api/heart?size={long_number}")), 400, "is out of range 16..=1024"),
        ("huge sample count", get("/api/pulse?samples=100000000"), 400, "samples `100000000` is out of range 1..=2000"),
        ("unknown parameter", get("/api/heart?love=5&evil=1"), 400, "unknown query parameter `evil`"),
        ("bad escape", get("/api/heart?%zz=1"), 400, "unknown query parameter"),
        ("unknown format", get("/api/heart?format=exe"), 400, "format `exe` is not one of"),
        ("body too large", format!("POST /api/heart HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{}", "x".repeat(100_000)).into_bytes(), 413, "over the 65536-byte limit"),
        ("beat body too large", format!("POST /api/beat HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{}", " ".repeat(5000)).into_bytes(), 413, ""),
        ("garbled beat", b"POST /api/beat HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"client\"".to_vec(), 400, ""),
    ];
    for (case, request, status, needle) in &cases {
        let (got, body) = raw(&host, request);
        assert_eq!(got, Some(*status), "{case}: {body}");
        if !needle.is_empty() {
            assert!(body.contains(needle), "{case}: `{needle}` not in {body}");
        }
        let json: serde_json::Value = serde_json::from_str(body.trim())
            .unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {body}"));
        assert!(json["error"].is_string(), "{case}: {body}");
    }

    // Protocol violations: refused by the HTTP layer (a 4xx or a closed connection), never 5xx.
    let protocol: Vec<(&str, Vec<u8>)> = vec![
        ("oversized URI", get(&format!("/api/heart?bpm={}", "9".repeat(100_000)))),
        (
            "too many headers",
            format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-H: 1\r\n".repeat(200)).into_bytes(),
        ),
        (
            "oversized header",
            format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(500_000)).into_bytes(),
        ),
        ("garbage", b"\x00\x01\x02 not http at all\r\n\r\n".to_vec()),
        (
            "raw non-UTF-8 byte in the URI",
            b"GET /api/heart?color=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("bad content length", b"POST /api/beat HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec()),
        ("truncated body", b"POST /api/beat HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{}".to_vec()),
    ];
    for (case, request) in &protocol {
        let (got, body) = raw(&host, request);
        assert!(
            got.is_none_or(|s| (400..500).contains(&s)),
            "{case}: got {got:?} {body}"
        );
    }

    let after = host.get("/api/symbol?bpm=72", None);
    assert_eq!(after.status, 200, "the host serves normally afterwards");
    let metrics = host.get("/metrics", None).text();
    assert!(
        !metrics.contains("status=\"5"),
        "no request was answered with a 5xx:\n{metrics}"
    );
}

//! Request smuggling and malformed framing against the real host: each case gets a 4xx or a
//! closed connection, none reaches a route or a guest (no request is counted, no instance is
//! made), each is counted in `heart_http_refused_total{reason}`, and the host serves on. A
//! `Content-Length` beside `Transfer-Encoding: chunked` — the classic smuggling carrier — is
//! read as chunked (RFC 9112 §6.3) and the connection is closed after the answer, so the
//! request hidden in the body is never served.

use crate::support::{Host, Options, exchange, metric};

/// The statuses of the responses in `answer`, in order.
fn statuses(answer: &str) -> Vec<u16> {
    answer
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| answer.get(at + 9..at + 12)?.parse().ok())
        .collect()
}

/// The counters that show whether anything reached a route or a guest, and the refusals.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Counts {
    /// Requests answered on the manifest's route (`/...`), whatever the status.
    routed: f64,
    /// Instances made.
    instances: f64,
    head_too_large: f64,
    malformed: f64,
}

fn counts(host: &Host) -> Counts {
    let scrape = host.get("/metrics", None).text();
    let routed = scrape
        .lines()
        .filter(|l| l.starts_with("heart_http_requests_total{") && l.contains("route=\"/...\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    let refused = |reason| metric(&scrape, "heart_http_refused_total", &[("reason", reason)]);
    Counts {
        routed,
        instances: metric(&scrape, "heart_wasm_instantiation_seconds_count", &[])
            .expect("the instantiation histogram"),
        head_too_large: refused("head_too_large").expect("a zero series"),
        malformed: refused("malformed").expect("a zero series"),
    }
}

#[test]
fn malformed_framing_is_refused_before_any_route_and_counted() {
    let host = Host::start(Options::default());
    let before = counts(&host);
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        (
            "conflicting Content-Length",
            b"POST /api/heart HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_vec(),
        ),
        (
            "Transfer-Encoding not ending in chunked",
            b"POST /api/heart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n".to_vec(),
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            b"POST /api/heart HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        ),
        (
            "a negative Content-Length",
            b"POST /api/heart HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
        ),
        ("HTTP/0.9", b"GET /api/heart\r\n\r\n".to_vec()),
        ("garbage", b"\x16\x03\x01\x00\xa5 not http at all\r\n\r\n".to_vec()),
        (
            "space before the colon",
            b"GET /api/heart HTTP/1.1\r\nHost : x\r\n\r\n".to_vec(),
        ),
        (
            "obsolete line folding",
            b"GET /api/heart HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n".to_vec(),
        ),
    ];
    for (case, request) in &malformed {
        let answer = exchange(&host, request);
        let got = statuses(&answer);
        assert!(
            got.is_empty() || got == [400],
            "{case}: a 400 or a closed connection, not {got:?}: {answer:.300}"
        );
    }
    let oversized: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "oversized header",
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(80_000)
            )
            .into_bytes(),
            431,
        ),
        (
            "oversized URI",
            format!(
                "GET /api/heart?bpm={} HTTP/1.1\r\nHost: x\r\n\r\n",
                "9".repeat(80_000)
            )
            .into_bytes(),
            414,
        ),
    ];
    for (case, request, status) in &oversized {
        let answer = exchange(&host, request);
        let got = statuses(&answer);
        assert!(
            got.is_empty() || got == [*status] || got == [431],
            "{case}: {status} or a closed connection, not {got:?}: {answer:.300}"
        );
    }
    let after = counts(&host);
    assert_eq!(
        (after.routed, after.instances),
        (before.routed, before.instances),
        "nothing reached a route or a guest"
    );
    assert_eq!(
        (
            after.malformed - before.malformed,
            after.head_too_large - before.head_too_large
        ),
        (malformed.len() as f64, oversized.len() as f64),
        "each refusal is counted once under its reason"
    );
    assert_eq!(
        host.get("/api/symbol", None).status,
        200,
        "the host serves on"
    );
}

#[test]
fn a_request_smuggled_behind_content_length_and_chunked_is_never_served() {
    let host = Host::start(Options::default());
    let smuggled = "GET /api/heart?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    for (order, head) in [
        (
            "Content-Length first",
            "Content-Length: 4\r\nTransfer-Encoding: chunked",
        ),
        (
            "Transfer-Encoding first",
            "Transfer-Encoding: chunked\r\nContent-Length: 4",
        ),
    ] {
        let before = counts(&host);
        let request =
            format!("POST /api/symbol HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n0\r\n\r\n{smuggled}");
        let answer = exchange(&host, request.as_bytes());
        let got = statuses(&answer);
        assert!(
            got.len() <= 1,
            "{order}: one answer at most, then the connection closes: {got:?} {answer:.400}"
        );
        assert!(
            !answer.contains("<svg"),
            "{order}: the smuggled request was served: {answer:.400}"
        );
        let after = counts(&host);
        assert!(
            after.routed - before.routed <= 1.0 && after.instances - before.instances <= 1.0,
            "{order}: at most the carrier reached the component: {before:?} → {after:?}"
        );
    }
    assert_eq!(
        host.get("/api/symbol", None).status,
        200,
        "the host serves on"
    );
}

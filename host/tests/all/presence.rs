//! `POST /api/beat` against the running host: states in the replies, bad bodies refused with
//! clear errors, the presence metrics from a real scrape, and the background sweep taking a
//! silent client offline on the real clock.

use std::time::{Duration, Instant};

use crate::support::{Host, Options, metric};

fn beat(host: &Host, client: &str, seq: u64, bpm: u16) -> serde_json::Value {
    let body = format!(r#"{{"client":"{client}","seq":{seq},"bpm":{bpm}}}"#);
    let reply = host.request("POST", "/api/beat", Some(body.as_bytes()));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

fn identity() -> Vec<(&'static str, &'static str)> {
    vec![("namespace", "hearts"), ("pod_name", "heart-display-1")]
}

fn host_with(extra_env: &[(&'static str, &'static str)]) -> Host {
    let mut env = vec![("POD_NAME", "heart-display-1"), ("POD_NAMESPACE", "hearts")];
    env.extend_from_slice(extra_env);
    Host::start(Options {
        env: &env,
        ..Options::default()
    })
}

fn gauge(host: &Host, state: &'static str) -> Option<f64> {
    let mut labels = identity();
    labels.push(("state", state));
    metric(&host.get("/metrics", None).text(), "heart_clients", &labels)
}

#[test]
fn beats_report_state_and_feed_the_metrics() {
    let host = host_with(&[]);
    let first = beat(&host, "tab-a", 0, 220);
    assert_eq!(first["state"], "online");
    assert_eq!(first["late_ms"], serde_json::Value::Null);
    // Beat 3 skips 1 and 2: weak, with the gap reported.
    let gapped = beat(&host, "tab-a", 3, 220);
    assert_eq!(
        (gapped["state"].as_str(), gapped["missed"].as_u64()),
        (Some("weak"), Some(2))
    );
    // A duplicate changes nothing and says so.
    let stale = beat(&host, "tab-a", 3, 220);
    assert_eq!(
        (stale["state"].as_str(), stale["stale"].as_bool()),
        (Some("weak"), Some(true))
    );
    beat(&host, "tab-b", 0, 60);
    // tab-b's next beat is due in 1 s; one right away is early, so on time.
    assert_eq!(beat(&host, "tab-b", 1, 60)["state"], "online");

    let text = host.get("/metrics", None).text();
    let id = identity();
    assert_eq!(metric(&text, "heart_rate_total", &id), Some(5.0), "{text}");
    // Two beats had a schedule to be measured against (the gapped one and tab-b's second).
    assert_eq!(metric(&text, "beat_latency_seconds_count", &id), Some(2.0));
    let buckets: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("beat_latency_seconds_bucket{"))
        .filter_map(|l| {
            l.split("le=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        buckets,
        [
            "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "+Inf"
        ],
        "buckets are 0.01·2^k for k = 0..7"
    );
    for (state, n) in [("online", 1.0), ("weak", 1.0), ("offline", 0.0)] {
        let mut labels = id.clone();
        labels.push(("state", state));
        assert_eq!(
            metric(&text, "heart_clients", &labels),
            Some(n),
            "{state}: {text}"
        );
    }
    let mut route = id.clone();
    route.extend([("route", "/api/beat"), ("status", "200")]);
    assert_eq!(
        metric(&text, "heart_http_requests_total", &route),
        Some(5.0)
    );
}

#[test]
fn a_silent_client_goes_offline_at_the_live_alert_threshold() {
    // 220 bpm beats every 272 ms; with alert_threshold 2 a client is offline once two beats
    // are overdue (about 0.6 s after its last beat), which the 1 s sweep notices.
    let host = host_with(&[("SPIN_VARIABLE_ALERT_THRESHOLD", "2")]);
    beat(&host, "quiet", 0, 220);
    assert_eq!(gauge(&host, "online"), Some(1.0));
    let deadline = Instant::now() + Duration::from_secs(5);
    while gauge(&host, "offline") != Some(1.0) {
        assert!(
            Instant::now() < deadline,
            "the sweep never took the client offline"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(gauge(&host, "online"), Some(0.0));
    // Beating again brings it back (weak first: it skipped numbers).
    assert_eq!(beat(&host, "quiet", 10, 220)["state"], "weak");
    assert_eq!(gauge(&host, "offline"), Some(0.0));
}

#[test]
fn bad_beats_get_clear_errors_and_change_nothing() {
    let host = host_with(&[]);
    let cases: [(&str, &[u8], u16, &str); 7] = [
        (
            "POST",
            b"{\"client\":\"a\",\"seq\":1,\"bpm\":500}",
            400,
            "bpm `500` is out of range 30..=220",
        ),
        (
            "POST",
            b"{\"client\":\"a\",\"seq\":-3,\"bpm\":72}",
            400,
            "seq `-3` is not a whole number",
        ),
        (
            "POST",
            b"{\"client\":\"\",\"seq\":1,\"bpm\":72}",
            400,
            "client id `` is not 1..=128 bytes",
        ),
        ("POST", b"{\"client\":\"a\"", 400, "beat body is not JSON"),
        ("POST", b"\xff\xfe", 400, "beat body is not JSON"),
        ("POST", &[b' '; 4096], 413, "over the 1024-byte limit"),
        ("PUT", b"{}", 405, "accepts POST only, not PUT"),
    ];
    for (method, body, status, message) in cases {
        let reply = host.request(method, "/api/beat", Some(body));
        assert_eq!(reply.status, status, "{method} {}", reply.text());
        let error = reply.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains(message), "{error}");
    }
    assert_eq!(
        host.request("GET", "/api/beat", None).header("allow"),
        Some("POST")
    );
    let text = host.get("/metrics", None).text();
    assert_eq!(metric(&text, "heart_rate_total", &identity()), Some(0.0));
    assert_eq!(gauge(&host, "online"), Some(0.0));
    // And the host still records good beats.
    assert_eq!(beat(&host, "a", 1, 72)["state"], "online");
}

#[test]
fn the_page_learns_whether_presence_is_served_without_a_failing_request() {
    // heart-host's presence service answers before the component.
    let host = host_with(&[]);
    let reply = host.get("/api/presence", None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), serde_json::json!({ "available": true }));
    let post = host.request("POST", "/api/presence", Some(b"{}"));
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    // Without it (as under Spin or `wasmtime serve`), the component answers: no presence here,
    // and the beat route is not served at all.
    for wasm in ["heart_http.wasm", "heart_http_p3.wasm"] {
        let host = Host::start(Options {
            wasm,
            args: &["--no-presence"],
            ..Options::default()
        });
        let reply = host.get("/api/presence", None);
        assert_eq!(reply.status, 200, "{wasm}: {}", reply.text());
        assert_eq!(
            reply.json(),
            serde_json::json!({ "available": false }),
            "{wasm}"
        );
        let beat = host.request(
            "POST",
            "/api/beat",
            Some(br#"{"client":"a","seq":0,"bpm":60}"#),
        );
        assert_eq!(beat.status, 404, "{wasm}: {}", beat.text());
    }
}

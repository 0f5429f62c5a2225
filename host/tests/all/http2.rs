//! HTTP/2 beside HTTP/1.1, with real clients: curl with prior knowledge (h2c) and over TLS
//! (ALPN `h2`), many concurrent streams on one connection from `h2load`, and `/live` over
//! HTTP/2 ending with its closing frame at shutdown. The same answers, `Server-Timing` and
//! metric labels as HTTP/1.1.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use heart_testing::{Running, metric, wait_until};

use crate::support::{self, Host, Options};

/// curl's answer: the HTTP version it spoke, the status, the headers and the body.
struct CurlReply {
    version: String,
    status: u16,
    headers: String,
    body: Vec<u8>,
}

/// `curl` with `args` against `url`; fails the test if curl does.
fn curl(args: &[&str], url: &str) -> CurlReply {
    let dir = tempfile::tempdir().expect("temp dir");
    let headers = dir.path().join("headers");
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-D"])
        .arg(&headers)
        .args(["-w", "\n@@curl %{http_version} %{http_code}"])
        .args(["-o", "-"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl {args:?} {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The -w line is written after the body.
    let out = output.stdout;
    let marker = b"\n@@curl ";
    let split = out
        .windows(marker.len())
        .rposition(|w| w == marker)
        .expect("curl's -w line");
    let trailer = String::from_utf8_lossy(&out[split + marker.len()..]).into_owned();
    let (version, status) = trailer.split_once(' ').expect("version and status");
    let headers = std::fs::read_to_string(&headers).expect("the headers curl wrote");
    CurlReply {
        version: version.to_owned(),
        status: status.trim().parse().expect("a status"),
        headers,
        body: out[..split].to_vec(),
    }
}

fn requests_counted(host: &Host) -> f64 {
    metric(
        &host.get("/metrics", None).text(),
        "heart_http_requests_total",
        &[("route", "/..."), ("status", "200")],
    )
    .unwrap_or(0.0)
}

#[test]
fn prior_knowledge_h2c_answers_as_http_1_1_does() {
    let host = Host::start(Options::default());
    let path = "/heart.svg?t=0.25";
    let before = requests_counted(&host);
    let h2 = curl(
        &["--http2-prior-knowledge"],
        &format!("{}{path}", host.base),
    );
    assert_eq!((h2.version.as_str(), h2.status), ("2", 200));
    assert!(h2.headers.starts_with("HTTP/2 200"), "{}", h2.headers);
    assert!(
        h2.headers.to_ascii_lowercase().contains("server-timing: "),
        "{}",
        h2.headers
    );
    let http1 = host.get(path, None);
    assert_eq!(h2.body, http1.body, "the same frame over both versions");
    // The same route label; the HTTP/1.1 request above and the scrape's own are not /... .
    assert_eq!(requests_counted(&host) - before, 2.0);
    // Compression applies over HTTP/2 too.
    let coded = curl(
        &["--http2-prior-knowledge", "-H", "accept-encoding: gzip"],
        &format!("{}{path}", host.base),
    );
    assert!(
        coded
            .headers
            .to_ascii_lowercase()
            .contains("content-encoding: gzip"),
        "{}",
        coded.headers
    );
    // A plain HTTP/1.1 client on the same listener is still served HTTP/1.1.
    let http11 = curl(&["--http1.1"], &format!("{}{path}", host.base));
    assert_eq!(http11.version, "1.1");
}

#[test]
fn https_offers_h2_by_alpn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pair = crate::tls::self_signed(dir.path(), "h2");
    let owned = crate::tls::args(&pair);
    let flags: Vec<&str> = owned.iter().map(String::as_str).collect();
    let host = Host::start(Options {
        args: &flags,
        ..Options::default()
    });
    let cacert = pair.cert.display().to_string();
    let url = format!("{}/heart.svg?t=0.25", host.base);
    let h2 = curl(&["--http2", "--cacert", &cacert], &url);
    assert_eq!((h2.version.as_str(), h2.status), ("2", 200));
    assert!(h2.body.starts_with(b"<svg"));
    let http11 = curl(&["--http1.1", "--cacert", &cacert], &url);
    assert_eq!((http11.version.as_str(), http11.status), ("1.1", 200));
}

#[test]
fn many_concurrent_streams_on_one_connection_are_all_answered() {
    let _heavy = support::heavy();
    let host = Host::start(Options::default());
    let before = requests_counted(&host);
    let output = Command::new("h2load")
        .args(["-n", "2000", "-c", "1", "-m", "100"])
        .arg(format!("{}/heart.svg", host.base))
        .output()
        .expect("h2load runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "h2load: {report}");
    assert!(
        report.contains("2000 succeeded, 0 failed, 0 errored"),
        "h2load: {report}"
    );
    assert!(
        report.contains("status codes: 2000 2xx"),
        "h2load: {report}"
    );
    assert!(
        report.contains("Application protocol: h2c"),
        "h2load: {report}"
    );
    assert_eq!(requests_counted(&host) - before, 2000.0);
}

#[test]
fn live_over_h2_streams_frames_and_ends_with_its_closing_frame_at_shutdown() {
    let mut host = Host::start(Options::default());
    let child = Command::new("curl")
        .args(["-sS", "-N", "--http2-prior-knowledge", "--max-time", "60"])
        .arg(format!("{}/live?fps=4&ascii=1", host.base))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl runs");
    let mut curl = Running::new(child, Duration::from_secs(2));
    let mut stdout = curl.child_mut().stdout.take().expect("piped");
    // A frame's footer arrives while the stream is open (frames are not held back).
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("live - 4 fps") {
        let mut chunk = [0; 4096];
        let n = stdout.read(&mut chunk).expect("reading the stream");
        assert!(n > 0, "the stream ended before its first frame");
        seen.extend_from_slice(&chunk[..n]);
    }
    host.sigterm();
    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .expect("reading to the end");
    assert!(
        rest.contains("the server is shutting down; the stream ends here"),
        "{rest:?}"
    );
    assert_eq!(host.terminate(Duration::from_secs(10)), Some(0));
    wait_until("curl exits", Duration::from_secs(10), || {
        curl.exited().is_some()
    });
    assert!(curl.exited().is_some_and(|s| s.success()), "curl failed");
}

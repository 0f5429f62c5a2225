//! `heart-host up --watch` (what `cargo xtask watch` runs): a component file replaced under the
//! running host is swapped in for the next request on a connection that stays open, while an
//! open `/live` stream runs to its end on the old code; a file that does not load is refused,
//! logged and counted, and the last good code keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use heart_testing::keep_alive::{Answer, KeepAlive};

use crate::support::{Host, Options, component, host_command, manifest_for, metric, wait_until};

/// `GET /api/symbol` on `connection`: the status and body.
fn symbol(connection: &mut KeepAlive) -> (u16, String) {
    let Answer { status, body, .. } = connection.get("/api/symbol");
    (status, body)
}

/// Replaces `to` with `from`'s bytes in one rename, as `cargo xtask build` writes `dist/`.
fn replace(to: &Path, bytes: &[u8]) {
    let partial = to.with_extension("partial");
    std::fs::write(&partial, bytes).expect("writing the new component");
    std::fs::rename(&partial, to).expect("renaming it into place");
}

fn loads(host: &Host, outcome: &str) -> f64 {
    let scrape = host.get("/metrics", None).text();
    metric(
        &scrape,
        "heart_component_loads_total",
        &[("outcome", outcome)],
    )
    .unwrap_or(0.0)
}

/// A host with `args` serving a copy of heart_http.wasm, the copy's path, and the directory
/// that holds both (removed when dropped).
fn serving_a_copy(args: &[&str]) -> (Host, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let wasm = dir.path().join("app.wasm");
    std::fs::copy(component("heart_http.wasm"), &wasm).expect("copying the component");
    let manifest = manifest_for(dir.path(), &wasm);
    let host = Host::spawn(host_command(
        &manifest,
        &Options {
            args,
            ..Options::default()
        },
    ));
    (host, wasm, dir)
}

#[test]
fn new_code_serves_the_next_request_while_open_connections_and_streams_stay() {
    let (host, wasm, _dir) = serving_a_copy(&["--watch"]);
    let mut connection = KeepAlive::open(&host.base);
    let (status, before) = symbol(&mut connection);
    assert_eq!(status, 200);
    assert!(
        before.contains("\"symbol\""),
        "heart-http answers: {before}"
    );

    // A stream opened on the old code, read to its end on its own thread.
    let address = host.base.trim_start_matches("http://").to_owned();
    let stream = std::thread::spawn(move || {
        let mut socket = TcpStream::connect(&address).expect("connecting");
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        write!(
            socket,
            "GET /live?ascii=1&fps=10&seconds=3 HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .expect("sending");
        let mut text = String::new();
        socket
            .read_to_string(&mut text)
            .expect("the stream to its end");
        text
    });
    std::thread::sleep(Duration::from_millis(300));
    let compiled = loads(&host, "compiled");

    replace(
        &wasm,
        &std::fs::read(component("heart_faults.wasm")).expect("faults"),
    );
    wait_until("the new code serves", Duration::from_secs(60), || {
        symbol(&mut connection) == (200, "ok".to_owned())
    });
    assert_eq!(loads(&host, "compiled"), compiled + 1.0, "one compile");
    assert!(
        host.stderr_until("new code swapped in")
            .iter()
            .any(|l| l.contains("new code swapped in")),
        "the swap is logged"
    );

    let text = stream.join().expect("the stream thread");
    assert!(text.starts_with("HTTP/1.0 200"), "{text:.200}");
    let frames = text.matches("\x1b[H").count();
    assert!(
        frames >= 25 && text.contains("the stream ran its 3 s"),
        "the stream ran its 3 s to the end on the old code ({frames} frames): {:?}",
        &text[text.len().saturating_sub(300)..]
    );

    // Bytes that are no component: refused, counted, the last good code serves on.
    replace(&wasm, b"\0asm but not really");
    wait_until("the refusal is counted", Duration::from_secs(30), || {
        loads(&host, "failed") == 1.0
    });
    assert!(
        host.stderr_until("new code refused")
            .iter()
            .any(|l| l.contains("new code refused")),
        "the refusal is logged"
    );
    assert_eq!(symbol(&mut connection), (200, "ok".to_owned()));
    // The same bytes again are not tried again.
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(loads(&host, "failed"), 1.0);
}

#[test]
fn without_watch_a_replaced_file_changes_nothing() {
    let (host, wasm, _dir) = serving_a_copy(&[]);
    replace(
        &wasm,
        &std::fs::read(component("heart_faults.wasm")).expect("faults"),
    );
    // Three of the watch's polls.
    std::thread::sleep(Duration::from_millis(1600));
    let (status, body) = symbol(&mut KeepAlive::open(&host.base));
    assert_eq!(status, 200);
    assert!(body.contains("\"symbol\""), "still heart-http: {body}");
}

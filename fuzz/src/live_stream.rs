//! Fuzzes `/live`: the method and query a client sends, and the moment a frame is drawn. No
//! input may panic; a refusal is a 400 or 405 whose JSON names the problem; a stream's frames
//! are whole screens (home, lines each ending with erase-line and CRLF, the footer, erase-below)
//! carrying no control byte but ESC, CR and LF, ASCII when asked; it ends with its closing frame
//! once its time is up or the host is closing; the next frame is never due in the past.

use std::time::Duration;

use heart_core::HeartConfig;
use heart_core::api::{self, ApiRequest, LIVE_PATH, LiveAnswer, LiveStep, Query};

/// The parameters `/live` takes (its documented query).
const PARAMETERS: [&str; 8] = [
    "fps", "cols", "rows", "seconds", "ascii", "bpm", "love", "color",
];

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("GET");
    let query = lines.next().unwrap_or("");
    // Milliseconds into the stream, and whether the host is closing streams.
    let elapsed = Duration::from_millis(
        lines
            .next()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .min(10_000_000),
    );
    let closing = lines.next().is_some_and(|l| l.trim() == "closing");
    let request = ApiRequest::new(method, LIVE_PATH, query, None);
    let answer = api::live(&request, &HeartConfig::default()).expect("/live is the live path");
    let stream = match answer {
        LiveAnswer::Respond(response) => {
            assert!(
                matches!(response.status, 200 | 400 | 405),
                "{}",
                response.status
            );
            if response.status != 200 {
                let body: serde_json::Value =
                    serde_json::from_slice(&response.body).expect("errors are JSON");
                assert!(body["error"].is_string(), "{body}");
            }
            return;
        }
        LiveAnswer::Stream(stream) => stream,
    };
    assert_eq!(stream.head().status, 200);
    assert!(stream.next_due(Duration::ZERO, elapsed) >= elapsed);
    assert!(stream.next_due(elapsed, Duration::ZERO) > elapsed);
    match stream.step(elapsed, closing) {
        LiveStep::Last(last) => {
            assert!(closing || elapsed >= stream.duration());
            assert!(
                last.ends_with("\r\n") && last.contains("\x1b[?25h"),
                "{last:?}"
            );
            assert_clean(&last);
        }
        LiveStep::Frame(frame) => {
            assert!(!closing && elapsed < stream.duration());
            assert_whole_screen(&frame);
            // The stream accepted the query, so its parameters parse here too.
            let ascii = Query::parse(query, &PARAMETERS)
                .and_then(|q| q.flag("ascii"))
                .expect("an accepted query");
            assert!(!ascii || frame.is_ascii(), "asked for ASCII: {frame:?}");
        }
    }
}

/// A frame draws the whole screen from the top-left corner.
fn assert_whole_screen(frame: &str) {
    let body = frame
        .strip_prefix("\x1b[H")
        .expect("a frame starts at home");
    let mut lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(lines.pop(), Some("\x1b[J"), "a frame ends erasing below");
    assert!(lines.len() > 2, "status, heart, ECG and footer: {frame:?}");
    for line in lines {
        assert!(
            line.ends_with("\x1b[K"),
            "every line erases its rest: {line:?}"
        );
    }
    assert_clean(frame);
}

/// No control byte but ESC (of the frame's own sequences), CR and LF.
fn assert_clean(text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\x1b' | '\r' | '\n')),
        "a stray control character: {text:?}"
    );
}

//! `/live` over a WASI 0.2 body stream: the head at once, then a frame every interval of WASI's
//! monotonic clock (`std::thread::sleep` and `Instant` are `wasi:clocks/monotonic-clock` on
//! this target) until the stream's time is up, the host says it is shutting down, or the
//! client hangs up (a write fails). The frame shown is the one for the time elapsed, so a
//! slow write skips frames instead of slowing the heart down.

use std::time::{Duration, Instant};

use heart_core::api::{LiveStep, LiveStream};
use spin_sdk::http::ResponseOutparam;

use crate::io;

/// Streams `live` through `out`; `closing` says whether the host asks open streams to end.
pub fn stream(out: ResponseOutparam, live: &LiveStream, closing: impl Fn() -> bool) {
    let head = live.head();
    let Some((body, stream)) = io::send_head(out, head.status, head.headers) else {
        return;
    };
    let started = Instant::now();
    if io::write_all(&stream, live.opening().as_bytes()).is_err() {
        return;
    }
    let mut due = Duration::ZERO;
    loop {
        let elapsed = started.elapsed();
        match live.step(elapsed, closing()) {
            // A failed write: the client hung up, and nobody reads a closing frame.
            LiveStep::Frame(frame) => {
                if io::write_all(&stream, frame.as_bytes()).is_err() {
                    return;
                }
            }
            LiveStep::Last(last) => {
                if io::write_all(&stream, last.as_bytes()).is_ok() {
                    io::finish(body, stream);
                }
                return;
            }
        }
        due = live.next_due(due, elapsed);
        std::thread::sleep(due.saturating_sub(started.elapsed()));
    }
}

//! `/live` over a WASI 0.2 body stream: the head at once, then a frame every interval of WASI's
//! monotonic clock (`std::thread::sleep` and `Instant` are `wasi:clocks/monotonic-clock` on
//! this target) until the stream's time is up, the host says it is shutting down, or the
//! client hangs up (a write fails). The frame shown is the one for the time elapsed, so a
//! slow write skips frames instead of slowing the heart down.

use std::time::{Duration, Instant};

use heart_core::api::LiveStream;
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
    let reason = loop {
        let elapsed = started.elapsed();
        if elapsed >= live.duration() {
            break format!("the stream ran its {} s", live.duration().as_secs());
        }
        if closing() {
            break "the server is shutting down; the stream ends here".to_owned();
        }
        if io::write_all(&stream, live.frame(elapsed).as_bytes()).is_err() {
            // The client hung up: nobody reads a closing frame.
            return;
        }
        // The next frame is due one interval after this one's slot, or now if that passed.
        due = (due + live.interval()).max(elapsed);
        std::thread::sleep(due.saturating_sub(started.elapsed()));
    };
    if io::write_all(&stream, live.closing(&reason).as_bytes()).is_ok() {
        io::finish(body, stream);
    }
}

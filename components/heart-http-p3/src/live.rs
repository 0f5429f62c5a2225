//! `/live` over a WASI 0.3 body stream: the head at once, then a task of the instance's own
//! sends a frame every interval of WASI's monotonic clock (`spin_sdk::time::sleep`) until the
//! stream's time is up, the host says it is shutting down, or the client hangs up (a send
//! fails). As in the 0.2 build, the frame shown is the one for the time elapsed.

use std::time::{Duration, Instant};

use futures::SinkExt;
use heart_core::api::{LiveStep, LiveStream};
use spin_sdk::http::{BoxBody, Response, box_body};

/// The response streaming `live`; `closing` says whether the host asks open streams to end.
pub fn response(live: LiveStream, closing: fn() -> bool) -> Response<BoxBody> {
    let head = live.head();
    let (mut frames, body) = spin_sdk::http::body::stream::<String>();
    spin_sdk::wasip3::spawn(async move {
        let started = Instant::now();
        if frames.send(live.opening().to_owned()).await.is_err() {
            return;
        }
        let mut due = Duration::ZERO;
        loop {
            let elapsed = started.elapsed();
            match live.step(elapsed, closing()) {
                // A failed send: the client hung up, and nobody reads a closing frame.
                LiveStep::Frame(frame) => {
                    if frames.send(frame).await.is_err() {
                        return;
                    }
                }
                LiveStep::Last(last) => {
                    let _ = frames.send(last).await;
                    return;
                }
            }
            due = live.next_due(due, elapsed);
            spin_sdk::time::sleep(due.saturating_sub(started.elapsed())).await;
        }
    });
    let mut builder = Response::builder().status(head.status);
    for (name, value) in head.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(box_body(body))
        .expect("the head comes from heart-core and is valid")
}

//! `GET /live`: the terminal heart streamed by the WASI 0.2 component through the real host —
//! whole frames whose heart pulses, a stream that outlives the request timeout while it makes
//! progress, guests that stop writing stopped, a hang-up that frees the instance at once, the
//! stream limit, a shutdown that ends streams with their closing frame, and the animation as
//! a real terminal (tmux) shows it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{BUILDS, Host, Options, metric, wait_until};

const HOME: &str = "\x1b[H";
const ERASE_BELOW: &str = "\x1b[J";

/// A `/live` response read as it arrives (HTTP/1.0: the body is the raw stream until close).
struct LiveClient {
    socket: TcpStream,
    /// Status line and headers.
    head: String,
    /// Body bytes received and not yet taken as frames.
    pending: Vec<u8>,
    ended: bool,
}

impl LiveClient {
    fn open(host: &Host, query: &str) -> Self {
        let address = host.base.trim_start_matches("http://");
        let mut socket = TcpStream::connect(address).expect("connecting to the host");
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        write!(
            socket,
            "GET /live{query} HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .expect("sending");
        let mut client = Self {
            socket,
            head: String::new(),
            pending: Vec::new(),
            ended: false,
        };
        while !client.pending.windows(4).any(|w| w == b"\r\n\r\n") {
            assert!(client.read_some(), "the stream ended before its head");
        }
        let split = client
            .pending
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("found above")
            + 4;
        client.head = String::from_utf8_lossy(&client.pending[..split]).into_owned();
        client.pending.drain(..split);
        client
    }

    fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {:?}", self.head))
    }

    /// Reads what is there; false at the end of the stream.
    fn read_some(&mut self) -> bool {
        let mut buffer = [0; 16 * 1024];
        match self.socket.read(&mut buffer) {
            Ok(0) | Err(_) => {
                self.ended = true;
                false
            }
            Ok(n) => {
                self.pending.extend_from_slice(&buffer[..n]);
                true
            }
        }
    }

    /// The next whole frame (from its cursor-home to its erase-below), or `None` once the
    /// stream ends without another.
    fn next_frame(&mut self) -> Option<String> {
        loop {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            if let Some(start) = text.find(HOME)
                && let Some(len) = text[start..].find(ERASE_BELOW)
            {
                let end = start + len + ERASE_BELOW.len();
                let frame = text[start..end].to_owned();
                self.pending.drain(..end);
                return Some(frame);
            }
            if !self.read_some() {
                return None;
            }
        }
    }

    /// Everything up to the end of the stream.
    fn rest(mut self) -> String {
        while self.read_some() {}
        String::from_utf8_lossy(&self.pending).into_owned()
    }
}

/// The stream time a frame's footer shows (`… 1.3 s of 300 s …`).
fn frame_time(frame: &str) -> f64 {
    let footer = frame
        .lines()
        .find(|l| l.starts_with("live "))
        .unwrap_or_else(|| panic!("no footer in {frame:?}"));
    let before = footer.split(" s of ").next().expect("a time");
    before
        .rsplit(' ')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {footer:?}"))
}

/// The pulse factor a frame's status line shows (`… pulse 1.146`).
fn pulse(frame: &str) -> String {
    let status = frame.trim_start_matches(HOME).lines().next().unwrap_or("");
    status
        .rsplit("pulse ")
        .next()
        .map(|p| p.trim_end_matches("\x1b[K").to_owned())
        .unwrap_or_default()
}

fn scrape(host: &Host, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metric(&host.get("/metrics", None).text(), name, labels)
}

#[test]
fn frames_are_whole_and_the_heart_pulses_as_time_goes_on() {
    for (build, wasm) in BUILDS {
        frames_are_whole(build, wasm);
    }
}

fn frames_are_whole(build: &str, wasm: &str) {
    let host = Host::start(Options {
        wasm,
        ..Options::default()
    });
    let mut live = LiveClient::open(&host, "?fps=10&ascii=1&bpm=90");
    assert_eq!(live.status(), 200, "{}", live.head);
    assert!(
        live.head
            .to_ascii_lowercase()
            .contains("content-type: text/plain; charset=utf-8"),
        "{}",
        live.head
    );
    let frames: Vec<String> = (0..12)
        .map(|i| live.next_frame().unwrap_or_else(|| panic!("frame {i}")))
        .collect();
    for frame in &frames {
        // Status line, 20 heart rows, a blank line, 9 ECG rows, footer.
        assert_eq!(frame.matches("\r\n").count(), 32, "{build}: {frame:?}");
        assert!(
            frame.contains("90 bpm") && frame.contains("love 7/10"),
            "{frame:?}"
        );
        assert!(frame.contains('#'), "the ASCII heart: {frame:?}");
    }
    let times: Vec<f64> = frames.iter().map(|f| frame_time(f)).collect();
    assert!(
        times.windows(2).all(|w| w[1] > w[0]),
        "{build}: time advances frame to frame: {times:?}"
    );
    let span = times[times.len() - 1] - times[0];
    assert!(
        (0.8..2.5).contains(&span),
        "12 frames at 10 fps span about 1.1 s: {times:?}"
    );
    let pulses: std::collections::BTreeSet<String> = frames.iter().map(|f| pulse(f)).collect();
    assert!(
        pulses.len() >= 4,
        "{build}: the heart's phase moves: {pulses:?}"
    );
}

#[test]
fn a_stream_outlives_the_request_timeout_while_it_makes_progress() {
    let host = Host::start(Options {
        args: &["--request-timeout-ms", "500"],
        ..Options::default()
    });
    let mut live = LiveClient::open(&host, "?fps=20");
    let mut last = 0.0;
    while last < 1.5 {
        let frame = live
            .next_frame()
            .expect("frames keep coming past the timeout");
        last = frame_time(&frame);
    }
    assert_eq!(
        scrape(
            &host,
            "heart_wasm_guest_failures_total",
            &[("kind", "timeout")]
        ),
        Some(0.0)
    );
}

#[test]
fn a_stream_that_stops_writing_is_stopped_whether_it_waits_or_spins() {
    for fault in ["stall", "spin"] {
        let host = Host::start(Options {
            wasm: "heart_faults.wasm",
            args: &["--request-timeout-ms", "500"],
            ..Options::default()
        });
        let started = Instant::now();
        let live = LiveClient::open(&host, &format!("?fault={fault}"));
        assert_eq!(live.status(), 200, "{fault}");
        let rest = live.rest();
        assert!(rest.starts_with("first line"), "{fault}: {rest:?}");
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "{fault}: ended {took:?} after its last write (limit 0.5 s)"
        );
        let stalled = || scrape(&host, "heart_live_streams_total", &[("end", "stalled")]);
        wait_until(
            &format!("{fault}: counted as stalled"),
            Duration::from_secs(5),
            || stalled() == Some(1.0),
        );
        assert_eq!(
            scrape(&host, "heart_wasm_active_instances", &[]),
            Some(0.0),
            "{fault}: its instance is gone"
        );
    }
}

#[test]
fn a_stream_without_a_head_is_a_timeout_counted_once() {
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &["--request-timeout-ms", "500"],
        ..Options::default()
    });
    let reply = host.get("/live?fault=silent", None);
    assert_eq!(reply.status, 504, "{}", reply.text());
    wait_until("the silent guest is gone", Duration::from_secs(5), || {
        scrape(&host, "heart_wasm_active_instances", &[]) == Some(0.0)
            && scrape(&host, "heart_live_streams", &[]) == Some(0.0)
    });
    assert_eq!(
        scrape(
            &host,
            "heart_wasm_guest_failures_total",
            &[("kind", "timeout")]
        ),
        Some(1.0)
    );
    assert_eq!(
        scrape(&host, "heart_live_streams_total", &[("end", "failed")]),
        Some(1.0)
    );
}

#[test]
fn an_instance_that_streamed_serves_frames_afterwards() {
    for (build, wasm) in BUILDS {
        let host = Host::start(Options {
            wasm,
            args: &["--instance-reuse", "100"],
            ..Options::default()
        });
        let rest = LiveClient::open(&host, "?seconds=1&fps=5").rest();
        assert!(rest.contains("the stream ran its 1 s"), "{build}: {rest:?}");
        wait_until(
            &format!("{build}: the finished stream is no longer open"),
            Duration::from_secs(5),
            || scrape(&host, "heart_live_streams", &[]) == Some(0.0),
        );
        for _ in 0..3 {
            let reply = host.get("/heart.svg", None);
            assert_eq!(reply.status, 200, "{build}: {}", reply.text());
        }
        assert_eq!(
            scrape(&host, "heart_live_streams_total", &[("end", "finished")]),
            Some(1.0),
            "{build}"
        );
    }
}

#[test]
fn a_client_that_hangs_up_frees_the_instance_at_once() {
    for (build, wasm) in BUILDS {
        let host = Host::start(Options {
            wasm,
            ..Options::default()
        });
        // One frame a second: the guest is asleep when the client goes.
        let mut live = LiveClient::open(&host, "?fps=1");
        live.next_frame().expect("a first frame");
        assert_eq!(
            scrape(&host, "heart_live_streams", &[]),
            Some(1.0),
            "{build}"
        );
        assert_eq!(
            scrape(&host, "heart_wasm_active_instances", &[]),
            Some(1.0),
            "{build}"
        );
        let hung_up = Instant::now();
        drop(live);
        wait_until(
            &format!("{build}: the instance and the stream are gone"),
            Duration::from_secs(5),
            || {
                scrape(&host, "heart_wasm_active_instances", &[]) == Some(0.0)
                    && scrape(&host, "heart_live_streams", &[]) == Some(0.0)
            },
        );
        assert!(
            hung_up.elapsed() < Duration::from_secs(2),
            "{build}: within a frame interval: {:?}",
            hung_up.elapsed()
        );
        assert_eq!(
            scrape(&host, "heart_live_streams_total", &[("end", "client_gone")]),
            Some(1.0),
            "{build}"
        );
    }
}

#[test]
fn beyond_the_stream_limit_the_answer_is_503_with_retry_after() {
    let host = Host::start(Options {
        args: &["--max-streams", "1"],
        ..Options::default()
    });
    let mut first = LiveClient::open(&host, "?fps=2");
    first.next_frame().expect("the first stream runs");
    let refused = host.get("/live", None);
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("10"));
    let error = refused.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("all 1 live streams"), "{error}");
    assert_eq!(
        scrape(&host, "heart_live_streams_total", &[("end", "refused")]),
        Some(1.0)
    );
    // The other routes are not limited, and the slot comes back with the stream.
    assert_eq!(host.get("/heart.svg", None).status, 200);
    drop(first);
    wait_until("a stream is admitted again", Duration::from_secs(5), || {
        let mut again = LiveClient::open(&host, "?fps=2");
        again.status() == 200 && again.next_frame().is_some()
    });
}

#[test]
fn bad_values_get_the_400_every_route_gives() {
    let host = Host::start(Options::default());
    for (query, field) in [
        ("fps=31", "fps"),
        ("cols=5", "cols"),
        ("seconds=0", "seconds"),
        ("bpm=999", "bpm"),
        ("colour=red", "colour"),
    ] {
        let reply = host.get(&format!("/live?{query}"), None);
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.json()["field"], field, "{query}");
    }
}

#[test]
fn shutdown_ends_an_open_stream_with_its_closing_frame() {
    for (build, wasm) in BUILDS {
        let mut host = Host::start(Options {
            wasm,
            ..Options::default()
        });
        let mut live = LiveClient::open(&host, "?fps=4");
        live.next_frame().expect("a frame");
        host.sigterm();
        let rest = live.rest();
        assert!(
            rest.contains("the server is shutting down; the stream ends here"),
            "{build}: {rest:?}"
        );
        assert!(
            rest.contains("\x1b[?25h"),
            "{build}: the cursor is shown again"
        );
        assert_eq!(host.terminate(Duration::from_secs(10)), Some(0), "{build}");
    }
}

#[test]
fn a_terminal_shows_the_heart_above_the_trace() {
    let host = Host::start(Options::default());
    let session = format!("heart-live-{}", std::process::id());
    let url = format!("{}/live?ascii=1&fps=10&seconds=30", host.base);
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &session])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux is needed for this test (apt-get install tmux): {e}"))
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "60",
        "-y",
        "40",
        "curl",
        "-sN",
        &url,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let capture = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned()
    };
    let mut screen = String::new();
    let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until("the footer appears", Duration::from_secs(10), || {
            screen = capture();
            screen.contains(" s of 30 s")
        });
    }));
    tmux(&["kill-server"]);
    assert!(shown.is_ok(), "no footer on the screen:\n{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[0].contains("72 bpm") && lines[0].contains("love 7/10"),
        "status on top:\n{screen}"
    );
    let heart_rows: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains('#'))
        .collect();
    let trace_rows: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains('*'))
        .collect();
    assert!(
        heart_rows.len() >= 10 && heart_rows.iter().all(|&r| (1..=20).contains(&r)),
        "the heart fills rows 1-20: {heart_rows:?}\n{screen}"
    );
    assert!(
        !trace_rows.is_empty() && trace_rows.iter().all(|&r| (22..=30).contains(&r)),
        "the ECG trace is below it, rows 22-30: {trace_rows:?}\n{screen}"
    );
    assert!(
        lines[31].starts_with("live - 10 fps"),
        "the footer last:\n{screen}"
    );
}

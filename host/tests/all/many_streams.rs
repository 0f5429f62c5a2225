//! 1,000 concurrent `/live` streams against one host (`--max-streams 1000`): every stream keeps
//! its 10 fps within ±10 % over a 10 s window, memory and CPU per stream are measured
//! (printed; `SECURITY.md` states them), and a shutdown ends every stream with its closing
//! frame within the grace period.

use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use heart_testing::process::{cpu_seconds, resident_bytes};

use crate::support::{self, Host, Options, wait_until};

const STREAMS: usize = 1000;
const FPS: f64 = 10.0;
const WINDOW: Duration = Duration::from_secs(10);
/// heart-host's default shutdown grace.
const GRACE: Duration = Duration::from_secs(10);

/// What the guest writes before each frame (cursor home).
const HOME: &[u8] = b"\x1b[H";
/// The closing frame's reason when the server shuts down.
const CLOSING: &str = "the server is shutting down";

/// One stream, read to its end on its own thread: frames counted as they come.
struct Stream {
    frames: Arc<AtomicU64>,
    reader: std::thread::JoinHandle<(String, Instant)>,
}

impl Stream {
    fn open(address: &str) -> Self {
        let mut socket = TcpStream::connect(address).expect("connecting");
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("a read timeout");
        std::io::Write::write_all(
            &mut socket,
            format!(
                "GET /live?ascii=1&fps=10&seconds=3600&cols=40&rows=10 HTTP/1.0\r\nHost: {address}\r\n\r\n"
            )
            .as_bytes(),
        )
        .expect("sending");
        let frames = Arc::new(AtomicU64::new(0));
        let counted = frames.clone();
        let reader = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                // Bytes after the last marker counted (a marker split across reads is still
                // found once), and the last 4 KiB as they came (for the closing frame).
                let mut pending: Vec<u8> = Vec::new();
                let mut recent: Vec<u8> = Vec::new();
                let mut buffer = [0; 8 * 1024];
                while let Ok(n @ 1..) = socket.read(&mut buffer) {
                    pending.extend_from_slice(&buffer[..n]);
                    let starts: Vec<usize> = pending
                        .windows(HOME.len())
                        .enumerate()
                        .filter(|(_, w)| *w == HOME)
                        .map(|(at, _)| at)
                        .collect();
                    counted.fetch_add(starts.len() as u64, Ordering::Relaxed);
                    let keep_from = starts
                        .last()
                        .map_or(pending.len().saturating_sub(HOME.len() - 1), |at| {
                            at + HOME.len()
                        });
                    pending.drain(..keep_from);
                    recent.extend_from_slice(&buffer[..n]);
                    let excess = recent.len().saturating_sub(4096);
                    recent.drain(..excess);
                }
                (
                    String::from_utf8_lossy(&recent).into_owned(),
                    Instant::now(),
                )
            })
            .expect("a reader thread");
        Self { frames, reader }
    }
}

#[test]
fn a_thousand_streams_keep_their_frame_rate_and_end_with_their_closing_frame() {
    let _heavy = support::heavy();
    let mut host = Host::start(Options {
        args: &["--max-streams", "1000", "--max-instances", "1100"],
        ..Options::default()
    });
    let address = host.base.trim_start_matches("http://").to_owned();
    let rss_before = resident_bytes(host.pid()).expect("the host's RSS");
    let streams: Vec<Stream> = (0..STREAMS).map(|_| Stream::open(&address)).collect();
    wait_until("every stream sends frames", Duration::from_secs(60), || {
        streams
            .iter()
            .all(|s| s.frames.load(Ordering::Relaxed) >= 3)
    });

    let counts = || -> Vec<u64> {
        streams
            .iter()
            .map(|s| s.frames.load(Ordering::Relaxed))
            .collect()
    };
    let (start, cpu_start, frames_start) = (
        Instant::now(),
        cpu_seconds(host.pid()).expect("the host's CPU"),
        counts(),
    );
    // A measurement window, not a wait for a condition.
    std::thread::sleep(WINDOW);
    let (elapsed, cpu_end, frames_end) = (
        start.elapsed().as_secs_f64(),
        cpu_seconds(host.pid()).expect("the host's CPU"),
        counts(),
    );
    let rss = resident_bytes(host.pid()).expect("the host's RSS");
    let rates: Vec<f64> = frames_start
        .iter()
        .zip(&frames_end)
        .map(|(a, b)| (b - a) as f64 / elapsed)
        .collect();
    let slowest = rates.iter().copied().fold(f64::MAX, f64::min);
    let fastest = rates.iter().copied().fold(0.0, f64::max);
    let per_stream_kib = rss.saturating_sub(rss_before) as f64 / 1024.0 / STREAMS as f64;
    let cpu_per_stream = (cpu_end - cpu_start) / elapsed / STREAMS as f64;
    eprintln!(
        "{STREAMS} streams at {FPS} fps: {slowest:.2}–{fastest:.2} fps each; {per_stream_kib:.0} KiB of host RSS per stream ({:.0} MiB in all); {:.2} ms of host CPU per stream per second ({:.0} % of a core in all)",
        rss as f64 / 1024.0 / 1024.0,
        cpu_per_stream * 1e3,
        cpu_per_stream * STREAMS as f64 * 100.0
    );
    assert!(
        slowest >= FPS * 0.9 && fastest <= FPS * 1.1,
        "every stream keeps 10 fps ±10 %: {slowest:.2}–{fastest:.2}"
    );

    let stopping = Instant::now();
    host.sigterm();
    let mut last_end = stopping;
    let mut without_closing = 0;
    for stream in streams {
        let (tail, ended) = stream.reader.join().expect("a reader thread");
        if !tail.contains(CLOSING) {
            without_closing += 1;
        }
        last_end = last_end.max(ended);
    }
    let took = last_end - stopping;
    eprintln!("shutdown ended all {STREAMS} streams in {took:.2?}");
    assert_eq!(
        without_closing, 0,
        "every stream ends with its closing frame"
    );
    assert!(took <= GRACE, "within the grace: {took:?}");
    assert_eq!(host.terminate(GRACE), Some(0), "and the host exits 0");
}

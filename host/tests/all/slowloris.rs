//! Slowloris against the real host: 500 connections each sending one byte of a request head per
//! second. A normal client is served meanwhile within its usual latency, and every slow
//! connection is closed once the header-read timeout (10 s from the first read of its head)
//! passes, counted as `heart_http_refused_total{reason="header_timeout"}`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use heart_testing::keep_alive::KeepAlive;

use crate::support::{self, Host, Options, metric, wait_until};

/// Slow connections.
const SLOW: usize = 500;

/// The host's header-read timeout (`host/src/http/shared.rs`).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Median of `samples`, in ms.
fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}

/// Times `count` requests, each on a new connection (as a new client would come).
fn timed_requests(host: &Host, count: usize) -> Vec<Duration> {
    (0..count)
        .map(|_| {
            let started = Instant::now();
            let answer = KeepAlive::open(&host.base).get("/api/symbol");
            assert_eq!(answer.status, 200, "{answer:?}");
            std::thread::sleep(Duration::from_millis(20));
            started.elapsed() - Duration::from_millis(20)
        })
        .collect()
}

#[test]
fn slow_headers_do_not_stop_a_normal_client_and_are_cut_at_the_header_read_timeout() {
    let _heavy = support::heavy();
    let host = Host::start(Options::default());
    let mut usual = timed_requests(&host, 30);
    let usual_ms = median_ms(&mut usual);

    let address = host.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..SLOW)
        .map(|i| {
            let socket =
                TcpStream::connect(&address).unwrap_or_else(|e| panic!("slow connection {i}: {e}"));
            socket
                .set_write_timeout(Some(Duration::from_secs(1)))
                .expect("a write timeout");
            socket
        })
        .collect();
    let head = b"GET /api/symbol HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let trickling = Arc::new(AtomicBool::new(true));
    let writers: Vec<TcpStream> = slow
        .iter()
        .map(|s| s.try_clone().expect("a second handle"))
        .collect();
    let keep = trickling.clone();
    let trickle = std::thread::spawn(move || {
        let mut writers = writers;
        let mut open = vec![true; writers.len()];
        let mut second = 0;
        while keep.load(Ordering::Relaxed) {
            let byte = head.get(second).copied().unwrap_or(b'a');
            for (writer, open) in writers.iter_mut().zip(open.iter_mut()) {
                if *open && writer.write_all(&[byte]).is_err() {
                    *open = false;
                }
            }
            second += 1;
            std::thread::sleep(Duration::from_secs(1));
        }
        open.iter().filter(|o| **o).count()
    });

    // A normal client while the slow ones trickle (before any is cut off).
    let mut during = timed_requests(&host, 30);
    let during_ms = median_ms(&mut during);
    let worst = during.iter().max().expect("samples");
    eprintln!(
        "a normal request: {usual_ms:.2} ms alone, {during_ms:.2} ms (worst {:.2} ms) beside {SLOW} slowloris connections",
        worst.as_secs_f64() * 1e3
    );
    assert!(
        started.elapsed() < HEADER_READ_TIMEOUT,
        "the normal requests were timed before the slow connections were cut"
    );
    assert!(
        during_ms <= usual_ms * 5.0 + 20.0 && *worst < Duration::from_secs(1),
        "slow clients slow a normal one: median {during_ms:.2} ms (usual {usual_ms:.2} ms), worst {worst:?}"
    );

    // Every slow connection is closed by the host at the header-read timeout.
    for (i, socket) in slow.iter_mut().enumerate() {
        let left = (started + HEADER_READ_TIMEOUT + Duration::from_secs(10))
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        socket.set_read_timeout(Some(left)).expect("a read timeout");
        let mut buffer = [0; 1024];
        match socket.read(&mut buffer) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!(
                "slow connection {i} still open {:?} after it started: {e}",
                started.elapsed()
            ),
        }
    }
    let closed_after = started.elapsed();
    trickling.store(false, Ordering::Relaxed);
    trickle.join().expect("the trickle thread");
    eprintln!("all {SLOW} slow connections closed {closed_after:.1?} after they started");
    assert!(
        closed_after >= HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "closed before the timeout: {closed_after:?}"
    );
    wait_until("the cut-offs are counted", Duration::from_secs(5), || {
        let scrape = host.get("/metrics", None).text();
        metric(
            &scrape,
            "heart_http_refused_total",
            &[("reason", "header_timeout")],
        ) == Some(SLOW as f64)
    });
    assert_eq!(
        host.get("/api/symbol", None).status,
        200,
        "the host serves on"
    );
}

/// How long after `opened` the host closed `socket` (it reads until the end or an error).
fn closed_after(mut socket: TcpStream, opened: Instant) -> Duration {
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    let mut buffer = [0; 4096];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => return opened.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                panic!("still open after 30 s")
            }
            Err(_) => return opened.elapsed(),
        }
    }
}

/// The HTTP/2 connection preface, and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const H2_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

#[test]
fn silent_connections_trickled_http2_prefaces_and_idle_http2_connections_are_closed() {
    let host = Host::start(Options::default());
    let address = host.base.trim_start_matches("http://").to_owned();
    let connect = || {
        (
            TcpStream::connect(&address).expect("connecting"),
            Instant::now(),
        )
    };
    // Sends nothing.
    let silent = connect();
    // The HTTP/2 preface, a byte every 500 ms (12 s for all of it).
    let (trickle, trickle_opened) = connect();
    let trickler = {
        let mut socket = trickle.try_clone().expect("a second handle");
        std::thread::spawn(move || {
            for byte in H2_PREFACE {
                if socket.write_all(&[*byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    // A whole HTTP/2 connection, then no stream.
    let (mut idle_h2, idle_opened) = connect();
    idle_h2.write_all(H2_PREFACE).expect("preface");
    idle_h2.write_all(H2_SETTINGS).expect("settings");
    let mut frame_head = [0; 9];
    idle_h2
        .read_exact(&mut frame_head)
        .expect("the server's first frame");
    assert_eq!(frame_head[3], 4, "the server answers HTTP/2 with SETTINGS");
    // A /live stream over the same time: its frames keep its connection open.
    let (mut live, live_opened) = connect();
    write!(
        live,
        "GET /live?fps=10&seconds=14 HTTP/1.0\r\nHost: {address}\r\n\r\n"
    )
    .expect("a stream request");

    let waiters = [
        ("silent", silent.0, silent.1),
        (
            "trickled HTTP/2 preface",
            trickle.try_clone().expect("handle"),
            trickle_opened,
        ),
        ("idle HTTP/2", idle_h2, idle_opened),
    ]
    .map(|(what, socket, opened)| {
        (
            what,
            std::thread::spawn(move || closed_after(socket, opened)),
        )
    });
    let live_lasted = closed_after(live, live_opened);
    for (what, waiter) in waiters {
        let after = waiter.join().expect("a waiter");
        assert!(
            (HEADER_READ_TIMEOUT - Duration::from_millis(500)
                ..HEADER_READ_TIMEOUT + Duration::from_secs(3))
                .contains(&after),
            "{what} connection closed after {after:?}"
        );
    }
    assert!(
        live_lasted >= Duration::from_secs(13),
        "the /live stream was cut after {live_lasted:?}"
    );
    let _ = trickle.shutdown(std::net::Shutdown::Both);
    trickler.join().expect("the trickler");
    let text = host.get("/metrics", None).text();
    let timeouts = metric(
        &text,
        "heart_http_refused_total",
        &[("reason", "header_timeout")],
    );
    assert_eq!(timeouts, Some(3.0), "counted as header timeouts");
    assert_eq!(
        host.get("/api/symbol", None).status,
        200,
        "the host serves on"
    );
}

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

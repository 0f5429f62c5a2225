//! Limits against the real host with a purpose-built misbehaving component
//! (`components/heart-faults`): a trap, an endless loop and a memory hog each fail only their
//! own request with a 5xx JSON error, are counted, and the host keeps serving.

mod support;

use std::time::{Duration, Instant};

use support::{Host, Options, metric};

#[test]
fn trap_loop_and_memory_hog_fail_only_their_request() {
    let args = ["--request-timeout-ms", "500", "--memory-limit-mb", "32"];
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &args,
        ..Options::default()
    });
    assert_eq!(host.get("/ok", None).text(), "ok");

    for path in ["/trap", "/loop", "/hog"] {
        let started = Instant::now();
        let reply = host.get(path, None);
        assert!(reply.status >= 500, "{path}: status {}", reply.status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert!(reply.json()["error"].as_str().is_some(), "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
        let after = host.get("/ok", None);
        assert_eq!(
            (after.status, after.text().as_str()),
            (200, "ok"),
            "serving after {path}"
        );
    }

    let metrics = host.get("/metrics", None).text();
    let failures: f64 = ["trap", "timeout", "instantiation"]
        .iter()
        .map(|kind| {
            metric(
                &metrics,
                "heart_wasm_guest_failures_total",
                &[("kind", kind)],
            )
            .unwrap_or(0.0)
        })
        .sum();
    assert_eq!(failures, 3.0, "each fault is counted once:\n{metrics}");
    assert_eq!(
        metric(
            &metrics,
            "heart_wasm_guest_failures_total",
            &[("kind", "instantiation")]
        ),
        Some(0.0)
    );
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_zero() {
    let mut host = Host::start(Options {
        wasm: "heart_faults.wasm",
        ..Options::default()
    });
    let base = host.base.clone();
    let in_flight = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .get(&format!("{base}/slow"))
            .call()
            .expect("request completes");
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().expect("body"))
    });
    std::thread::sleep(Duration::from_millis(300));
    let code = host.terminate(Duration::from_secs(10));
    let (status, body) = in_flight.join().expect("client thread");
    assert_eq!(
        (status, body.as_str()),
        (200, "slow ok"),
        "the in-flight request finished"
    );
    assert_eq!(
        code,
        Some(0),
        "clean exit after the grace period's work is done"
    );
}

#[test]
fn faults_under_load_fail_only_themselves_and_are_all_counted() {
    let args = ["--request-timeout-ms", "300", "--memory-limit-mb", "32"];
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &args,
        ..Options::default()
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    const EACH: usize = 3;
    let (failures, served) = std::thread::scope(|scope| {
        let load: Vec<_> = (0..4)
            .map(|_| {
                let (base, stop) = (host.base.clone(), &stop);
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let (mut failures, mut served) = (Vec::new(), 0u32);
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        match agent.get(format!("{base}/ok")).call() {
                            Ok(r) if r.status() == 200 => served += 1,
                            Ok(r) => failures.push(r.status().to_string()),
                            Err(e) => failures.push(e.to_string()),
                        }
                    }
                    (failures, served)
                })
            })
            .collect();
        for _ in 0..EACH {
            for path in ["/trap", "/loop", "/hog"] {
                let reply = host.get(path, None);
                assert!(reply.status >= 500, "{path}: {}", reply.status);
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        load.into_iter()
            .map(|t| t.join().expect("load thread"))
            .fold((Vec::new(), 0), |(mut f, n), (tf, tn)| {
                f.extend(tf);
                (f, n + tn)
            })
    });
    assert!(failures.is_empty(), "normal requests failed: {failures:?}");
    assert!(served > 20, "the load ran ({served} requests)");
    let metrics = host.get("/metrics", None).text();
    let failures: f64 = ["trap", "timeout", "instantiation"]
        .iter()
        .map(|kind| {
            metric(
                &metrics,
                "heart_wasm_guest_failures_total",
                &[("kind", kind)],
            )
            .unwrap_or(0.0)
        })
        .sum();
    assert_eq!(
        failures,
        (3 * EACH) as f64,
        "every fault counted once:\n{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "heart_wasm_guest_failures_total",
            &[("kind", "timeout")]
        ),
        Some(EACH as f64),
        "the endless loops are counted as timeouts"
    );
}

//! Memory comes back once load drops: a burst of the largest PNG renders warms many pool slots
//! (each keeps the guest memory it touched resident, up to the kept-resident size) and the
//! allocator's arenas; once the load is light, the host gives both back within a few reclaim
//! intervals (`heart_host::app::background`). The light load after the burst (small renders, one at a
//! time) is what flushes Wasmtime's part-filled decommit batches (`engine::DECOMMIT_BATCH`),
//! as any traffic does; nothing else does.

use std::time::{Duration, Instant};

use crate::support::{Host, Options};
use heart_host::app::background::RECLAIM_INTERVAL;
use heart_host::runtime::heap::process_resident_bytes;

/// Concurrent clients in the burst, each asking for [`RENDERS`] PNGs in turn.
const CLIENTS: usize = 16;
const RENDERS: usize = 3;
/// Small requests after the burst, one at a time.
const TRICKLE: usize = 128;

fn rss_mib(host: &Host) -> f64 {
    process_resident_bytes(host.pid()).expect("the host's VmRSS") as f64 / f64::from(1 << 20)
}

#[test]
fn memory_a_burst_warmed_goes_back_once_the_load_is_light() {
    let host = Host::start(Options::default());
    assert_eq!(host.get("/heart.svg", None).status, 200);
    let before = rss_mib(&host);
    let url = format!("{}/heart.png?size=1024", host.base);
    std::thread::scope(|scope| {
        for _ in 0..CLIENTS {
            scope.spawn(|| {
                let agent = ureq::Agent::new_with_defaults();
                for _ in 0..RENDERS {
                    let response = agent.get(&url).call().expect("the PNG renders");
                    assert_eq!(response.status(), 200);
                }
            });
        }
    });
    let peak = rss_mib(&host);
    for _ in 0..TRICKLE {
        assert_eq!(host.get("/heart.svg", None).status, 200);
    }
    assert!(
        peak - before > 16.0,
        "setup: the burst should hold well over 16 MiB in warm slots: {before:.1} -> {peak:.1} MiB"
    );
    let deadline = Instant::now() + RECLAIM_INTERVAL * 3 + Duration::from_secs(1);
    loop {
        let now = rss_mib(&host);
        if now < before + 8.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RSS still {now:.1} MiB {:?} after a burst that took it {before:.1} -> {peak:.1} MiB",
            RECLAIM_INTERVAL * 3
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

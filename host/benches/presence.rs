//! Presence table at scale: memory for 1M tracked clients and beat updates per second from
//! every core, against an unsharded `Mutex<HashMap>` baseline measured in the same run.
//! Goals (issue 5): ≤ 150 MB for 1M clients, ≥ 1M updates/s on this 2-core machine.
//!
//! `cargo bench -p heart-host --bench presence` (prints a table and one JSON line).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use heart_core::Bpm;
use heart_core::presence::{ClientRecord, PresencePolicy};
use heart_host::presence::Presence;

const CLIENTS: u64 = 1_000_000;
const RUN: Duration = Duration::from_secs(2);
const REPEATS: usize = 5;

/// Resident set size of this process, in bytes.
fn rss_bytes() -> u64 {
    heart_host::runtime::heap::resident_bytes().expect("VmRSS in /proc/self/status")
}

/// Calls `f` with the id of client `i` formatted on the stack (no allocation).
fn with_id<R>(i: u64, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 32];
    let mut cursor = &mut buf[..];
    write!(cursor, "client-{i}").expect("fits");
    let len = 32 - cursor.len();
    f(std::str::from_utf8(&buf[..len]).expect("ascii"))
}

/// Beats per second with `threads` threads each beating its share of the clients in rounds.
fn updates_per_second(threads: u64, beat: &(dyn Fn(u64, u64, u64) + Sync)) -> f64 {
    let started = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut done = 0u64;
                    let mut round = 1u64;
                    while started.elapsed() < RUN {
                        // One round: the next on-time beat of every client of this thread.
                        let mut i = t;
                        while i < CLIENTS {
                            beat(i, round, round * 833);
                            done += 1;
                            i += threads;
                            if done.is_multiple_of(65_536) && started.elapsed() >= RUN {
                                return done;
                            }
                        }
                        round += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that excludes us means skip.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"presence".contains(&a))
    {
        return;
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    let bpm = Bpm::DEFAULT;

    let before = rss_bytes();
    let presence = Presence::new(PresencePolicy::default(), 1 << 21);
    for i in 0..CLIENTS {
        with_id(i, |id| presence.beat(presence.key(id), 0, bpm, 0))
            .expect("below the table's maximum");
    }
    let table_bytes = rss_bytes().saturating_sub(before);
    assert_eq!(presence.len(), CLIENTS);

    let sharded = median(
        (0..REPEATS)
            .map(|r| {
                let offset = r as u64 * 1_000;
                updates_per_second(threads, &|i, round, _| {
                    let _ = with_id(i, |id| {
                        presence.beat(
                            presence.key(id),
                            offset + round,
                            bpm,
                            (offset + round) * 833,
                        )
                    });
                })
            })
            .collect(),
    );
    let counts = presence.counts();

    // Baseline: the same records in one HashMap behind one lock.
    let baseline_map: Mutex<HashMap<u64, ClientRecord>> = Mutex::new(HashMap::new());
    let ids = std::hash::RandomState::new();
    let policy = PresencePolicy::default();
    for i in 0..CLIENTS {
        let key = with_id(i, |id| std::hash::BuildHasher::hash_one(&ids, id));
        baseline_map
            .lock()
            .expect("unpoisoned")
            .insert(key, ClientRecord::first(0, bpm, 0).0);
    }
    let baseline = median(
        (0..REPEATS)
            .map(|r| {
                let offset = r as u64 * 1_000;
                updates_per_second(threads, &|i, round, _| {
                    let key = with_id(i, |id| std::hash::BuildHasher::hash_one(&ids, id));
                    if let Some(record) = baseline_map.lock().expect("unpoisoned").get_mut(&key) {
                        record.beat(offset + round, bpm, (offset + round) * 833, &policy);
                    }
                })
            })
            .collect(),
    );

    let mb = table_bytes as f64 / 1e6;
    println!("presence table, {CLIENTS} clients, {threads} threads, median of {REPEATS} × {RUN:?}");
    println!(
        "  memory            {mb:>8.1} MB  ({:.0} bytes/client; goal ≤ 150 MB)",
        table_bytes as f64 / CLIENTS as f64
    );
    println!(
        "  sharded updates   {:>8.2} M/s (goal ≥ 1 M/s)",
        sharded / 1e6
    );
    println!("  Mutex<HashMap>    {:>8.2} M/s (baseline)", baseline / 1e6);
    println!("  ratio             {:>8.2}× baseline", sharded / baseline);
    println!(
        "  states after run  online {} weak {} offline {}",
        counts.online, counts.weak, counts.offline
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "presence",
            "clients": CLIENTS,
            "threads": threads,
            "memory_mb": mb,
            "updates_per_s": sharded,
            "baseline_updates_per_s": baseline,
            "ratio": sharded / baseline,
        })
    );
}

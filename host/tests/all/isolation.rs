//! Fresh-instance isolation with the production engine settings (pooling allocator, 2 MiB kept
//! resident and reset through `PAGEMAP_SCAN`, the rest decommitted): one request's guest
//! writes a marker into every other 4 KiB page of 8 MiB — 1,024 separate dirty regions, far
//! more than the 32 Wasmtime 48 stopped scanning after, and four times the kept-resident size —
//! and the next fresh instances, in the same pool slot, grow their memory as far and scan all
//! of it: none may find a marker. A positive control reads the markers back from a reused
//! instance, so a broken scanner cannot pass for isolation.
//!
//! The pool holds one instance (`--max-instances 1`, two memory slots), and every scribble is
//! followed by two scans, so whichever slot the allocator hands out (affinity to the module,
//! lowest free or alternating), a scan runs in the slot the scribble dirtied.
//!
//! Not tested here: dirty pages the kernel has swapped out between requests (the case
//! Wasmtime 50's rescan fixed). These machines have no swap device, so nothing can be paged
//! out (`MADV_PAGEOUT` leaves anonymous pages resident without swap), and enabling swap on a
//! CI machine from a test would change the whole machine.

use crate::support::{Host, Options};

/// MiB the scribble writes across.
const MIB: usize = 8;
/// Markers it writes: one per 8 KiB.
const MARKERS: usize = (MIB << 20) / (8 << 10);

/// Parses `wrote N markers; memory P pages` or `found N markers; memory P pages`.
fn figures(reply: &str, verb: &str) -> (usize, usize) {
    let rest = reply
        .trim()
        .strip_prefix(verb)
        .unwrap_or_else(|| panic!("expected `{verb} …`, got {reply:?}"));
    let mut numbers = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().expect("a number"));
    let n = numbers.next().expect("a count");
    let pages = numbers.next().expect("a page count");
    (n, pages)
}

fn scribble(host: &Host, seed: u64) -> usize {
    let reply = host.get(&format!("/scribble?seed={seed}&mib={MIB}"), None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (written, pages) = figures(&reply.text(), "wrote");
    assert_eq!(written, MARKERS);
    pages
}

fn scan(host: &Host, seed: u64, pages: usize) -> usize {
    let reply = host.get(&format!("/scan?seed={seed}&pages={pages}"), None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (found, scanned) = figures(&reply.text(), "found");
    assert!(
        scanned >= pages,
        "the scan covered {scanned} of {pages} pages"
    );
    found
}

#[test]
fn a_fresh_instance_sees_nothing_the_last_request_wrote() {
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &["--max-instances", "1"],
        env: &[("RUST_LOG", "info")],
        ..Options::default()
    });
    let pooling = "engine ready: pooling allocator";
    assert!(
        host.stderr_until(pooling)
            .iter()
            .any(|l| l.contains(pooling)),
        "the production engine (pooling allocator) is in use"
    );
    for seed in 1..=4u64 {
        let pages = scribble(&host, seed);
        for attempt in 0..2 {
            let found = scan(&host, seed, pages);
            assert_eq!(
                found, 0,
                "scan {attempt} after scribble {seed}: a fresh instance read {found} of the \
                 {MARKERS} markers the previous request left"
            );
        }
    }
}

#[test]
fn the_scan_finds_markers_left_in_its_own_instance() {
    // Positive control: one instance answers the scribble and then the scan.
    let host = Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &["--max-instances", "1", "--instance-reuse", "2"],
        ..Options::default()
    });
    let pages = scribble(&host, 7);
    assert_eq!(scan(&host, 7, pages), MARKERS, "every marker is found");
    // And markers of another seed are not.
    let pages = scribble(&host, 8);
    assert_eq!(
        scan(&host, 9, pages),
        0,
        "another seed's marker is not counted"
    );
}

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
//! With swap (issue 36): the same, with the scribbled pages in swap when the slot is reset —
//! the case Wasmtime 50's rescan fixed (a dirty page in swap is not "present", and a reset
//! that asked only for present pages left it, markers and all, to the next instance). The
//! tests add a swap file of their own ([`swapping`]), let the scribbling instance sit idle
//! (`--instance-reuse 2`), page the host's memory out with `process_madvise(MADV_PAGEOUT)`
//! and wait until the guest's heap is in swap — some of it inside the 2 MiB the reset scans
//! rather than decommits — then end the instance with a second request; fresh instances scan.
//! Their positive control reads every marker back from swap in the scribbling instance.

use crate::support::{Host, Options};
use crate::swapping::{SwapFile, swap_out_guest};

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

/// KiB of the guest's heap that must be in swap before its instance ends: half of the
/// scribble's marker pages (every other 4 KiB page of 8 MiB is written).
const SWAPPED_KIB: u64 = (MIB as u64) << 10 >> 2;

/// A host whose instances each serve two requests, so a scribble's instance sits idle (and
/// can be swapped out) until the next request ends it.
fn host_with_idle_instances() -> Host {
    Host::start(Options {
        wasm: "heart_faults.wasm",
        args: &["--max-instances", "1", "--instance-reuse", "2"],
        ..Options::default()
    })
}

/// Ends the idle instance (its second request): its slot is reset.
fn end_instance(host: &Host) {
    assert_eq!(host.get("/", None).status, 200);
}

#[test]
fn a_fresh_instance_sees_nothing_of_pages_swapped_out_before_the_reset() {
    let _swap = SwapFile::enable();
    let host = host_with_idle_instances();
    for seed in 1..=3u64 {
        let pages = scribble(&host, seed);
        let swapped = swap_out_guest(&host, SWAPPED_KIB);
        eprintln!("scribble {seed}: {swapped:?}");
        end_instance(&host);
        for attempt in 0..2 {
            let found = scan(&host, seed, pages);
            assert_eq!(
                found, 0,
                "scan {attempt} after scribble {seed} ({swapped:?} in swap at the reset): a \
                 fresh instance read {found} of the {MARKERS} markers"
            );
            end_instance(&host);
        }
    }
}

#[test]
fn markers_in_swap_are_read_back_by_their_own_instance() {
    // Positive control: the scan finds what was swapped out, once it is paged back in.
    let _swap = SwapFile::enable();
    let host = host_with_idle_instances();
    let pages = scribble(&host, 5);
    let swapped = swap_out_guest(&host, SWAPPED_KIB);
    assert_eq!(
        scan(&host, 5, pages),
        MARKERS,
        "every marker comes back from swap ({swapped:?})"
    );
}

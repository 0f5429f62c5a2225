//! `/scribble` and `/scan`: what one request leaves in guest memory, and whether the next
//! instance can see it. `/scribble?seed=S&mib=M` writes a 16-byte marker derived from `S` into
//! every other 4 KiB page of M MiB (so the dirty pages form many separate regions) and keeps
//! them allocated; `/scan?seed=S&pages=P` grows memory to at least P Wasm pages, reads every
//! 8-byte word of it and counts the markers it finds. The scanner never stores the marker:
//! it compares against the marker's complement, so its own copy cannot be counted.
#![allow(
    unsafe_code,
    reason = "the scan reads the whole linear memory by address"
)]

/// The first address scanned (address 0 is the null pointer).
const SCAN_FROM: usize = 16;

/// Bytes between two markers: every other 4 KiB page is written.
const STRIDE: usize = 8 << 10;

/// Largest scribble, in MiB.
const MAX_MIB: usize = 32;

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The marker's two words for `seed`, complemented (the form the scanner keeps).
fn complemented_marker(seed: u64) -> [u64; 2] {
    [!splitmix64(seed), !splitmix64(seed ^ u64::MAX)]
}

fn memory_pages() -> usize {
    core::arch::wasm32::memory_size(0)
}

/// Writes the markers and leaks the buffer (nothing in this instance reuses it).
pub fn scribble(seed: u64, mib: usize) -> Result<String, String> {
    if !(1..=MAX_MIB).contains(&mib) {
        return Err(format!("mib `{mib}` is out of range 1..={MAX_MIB}"));
    }
    let words = (mib << 20) / 8;
    let buffer: &mut [u64] = Box::leak(vec![0u64; words].into_boxed_slice());
    let [a, b] = complemented_marker(seed);
    let mut written = 0;
    for block in buffer.chunks_mut(STRIDE / 8) {
        // Past the block's first bytes, which an allocator might reuse for its bookkeeping.
        block[8] = !a;
        block[9] = !b;
        written += 1;
    }
    std::hint::black_box(&*buffer);
    Ok(format!(
        "wrote {written} markers; memory {} pages\n",
        memory_pages()
    ))
}

/// Grows memory to `pages` and counts the markers in all of it.
pub fn scan(seed: u64, pages: usize) -> Result<String, String> {
    let now = memory_pages();
    if pages > now && core::arch::wasm32::memory_grow(0, pages - now) == usize::MAX {
        return Err(format!("could not grow memory from {now} to {pages} pages"));
    }
    let [na, nb] = std::hint::black_box(complemented_marker(seed));
    let end = memory_pages() * 65536;
    let mut found = 0usize;
    let mut address = SCAN_FROM;
    while address + 16 <= end {
        // SAFETY: the address is 8-aligned and below the memory's current size, so the read
        // stays inside linear memory; volatile, because no Rust object lives there for the
        // compiler to reason about.
        let (first, second) = unsafe {
            (
                core::ptr::read_volatile(address as *const u64),
                core::ptr::read_volatile((address + 8) as *const u64),
            )
        };
        if first == !na && second == !nb {
            found += 1;
        }
        address += 8;
    }
    Ok(format!(
        "found {found} markers; memory {} pages\n",
        memory_pages()
    ))
}

//! Links the component (and heart-http-p3, which uses this script too) with room for its heap
//! in its initial linear memory.
//!
//! wasm-ld sizes the initial memory to the stack and the data, rounded up to a 64 KiB page, so
//! the heap a request starts with is whatever that rounding leaves: 11 KiB once the page's
//! precompressed files pushed the data over a page boundary, and every fresh instance then
//! began with `memory.grow` — under the pooling allocator an `mprotect` to open the page and
//! another at the slot's reset to close it, ≈ 14 µs of a ≈ 70 µs fresh request. A heap of its
//! own size in the initial memory keeps the common requests from growing whatever the data
//! weighs; untouched pages cost nothing (they are neither resident nor reset).

/// Bytes of heap in the initial memory. Every route but PNG answers within it (a PNG's raster
/// is 256 KiB at the default size, and grows once or twice): checked for `/heart.svg` by the
/// host's test `a_fresh_heart_svg_never_grows_guest_memory`. 64, 128 and 256 KiB measured the
/// same per fresh request.
const INITIAL_HEAP: u32 = 128 << 10;

fn main() {
    // Only the Wasm link takes the flag (a native `cargo test` links with the system linker).
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-cdylib=--initial-heap={INITIAL_HEAP}");
    }
}

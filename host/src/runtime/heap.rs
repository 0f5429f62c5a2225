//! Giving the heap the compiler freed back to the system, and reading how much is resident.
//!
//! Compiling a component allocates tens of MiB (Cranelift, on several threads) and frees it
//! again; glibc's allocator keeps such freed memory in its per-thread arenas, so a host that
//! compiled at start (no cache, or a cache miss) sat at ≈ 40 MB RSS where a cached start sits
//! at ≈ 18 MB. `malloc_trim` returns the free pages of every arena.

/// Returns the allocator's free pages to the system; a no-op off glibc.
pub(crate) fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes a plain integer and only walks the allocator's own free
        // lists under its locks; it touches no memory the program owns.
        #[allow(unsafe_code)]
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// This process's resident set size in bytes (`VmRSS`, through procfs); `None` where
/// procfs does not give it.
pub fn resident_bytes() -> Option<u64> {
    vmrss_bytes(procfs::process::Process::myself().ok()?)
}

/// Process `pid`'s resident set size in bytes, as [`resident_bytes`] reads its own.
pub fn process_resident_bytes(pid: u32) -> Option<u64> {
    vmrss_bytes(procfs::process::Process::new(i32::try_from(pid).ok()?).ok()?)
}

fn vmrss_bytes(process: procfs::process::Process) -> Option<u64> {
    Some(process.status().ok()?.vmrss? * 1024)
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn rss_mib() -> f64 {
        resident_bytes().expect("VmRSS in /proc/self/status") as f64 / (1024.0 * 1024.0)
    }

    /// Set in the process [`freed_memory_below_a_live_allocation_goes_back_to_the_system`]
    /// starts to measure in.
    const ALONE: &str = "HEART_HEAP_TEST_ALONE";

    #[test]
    fn freed_memory_below_a_live_allocation_goes_back_to_the_system() {
        // RSS is the whole process's, and other tests in this binary load components and free
        // their memory meanwhile: the measurement runs in a test process of its own.
        if std::env::var_os(ALONE).is_none() {
            let name = "runtime::heap::tests::freed_memory_below_a_live_allocation_goes_back_to_the_system";
            let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
                .args(["--exact", name, "--test-threads=1", "--nocapture"])
                .env(ALONE, "1")
                .status()
                .expect("the test binary runs");
            assert!(
                status.success(),
                "the measurement in its own process failed"
            );
            return;
        }
        // 64 MiB in small blocks (from the arena, not mmap), then one block above them kept
        // alive: freeing the 64 MiB leaves a hole the allocator cannot shrink its heap past.
        let before = rss_mib();
        let blocks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![(i % 251) as u8; 4096]).collect();
        let pin = std::hint::black_box(vec![1u8; 4096]);
        drop(std::hint::black_box(blocks));
        let held = rss_mib();
        assert!(held - before > 48.0, "setup: {before:.1} -> {held:.1} MiB");
        return_free_memory();
        let after = rss_mib();
        assert!(
            held - after > 32.0,
            "RSS {held:.1} -> {after:.1} MiB after return_free_memory"
        );
        drop(pin);
    }
}

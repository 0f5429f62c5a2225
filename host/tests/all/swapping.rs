//! Pushing a running host's guest memory out to swap, for the isolation tests: a swap file of
//! the test's own (root: `fallocate`, `mkswap`, `swapon`), removed however the test ends;
//! `process_madvise(MADV_PAGEOUT)` on the host's writable mappings; and where the guest's
//! pages went, from `/proc/PID/smaps` and `/proc/PID/pagemap`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support;

/// What the swap files of these tests are called (found and removed if a run was killed).
const PREFIX: &str = "heart-test-swap-";
/// Size of a swap file: room for several 8 MiB scribbles and the host's own pages.
const SWAP_MIB: u32 = 128;
/// Bytes in a host page.
const PAGE: u64 = 4096;
/// How the pooling allocator names a module's memory image (compiled without the cache).
const IMAGE_MAPPING: &str = "memfd:wasm-memory-image";
/// The guest memory the pooling allocator resets in place rather than decommits (its first
/// `KEEP_RESIDENT_BYTES`): the region where a swapped dirty page the reset does not see
/// survives to the next instance.
const KEPT_RESIDENT: u64 = heart_host::runtime::engine::KEEP_RESIDENT_BYTES as u64;

/// A swap file in use until dropped.
pub struct SwapFile {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SwapFile {
    /// Creates and enables a swap file (on the target directory's file system: swap files
    /// need a real one, not tmpfs).
    pub fn enable() -> SwapFile {
        remove_leftovers();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("a temp dir for the swap file");
        let path = dir.path().join("swap");
        let size = format!("{SWAP_MIB}M");
        run("fallocate", &["-l", &size], &path);
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod 600 the swap file");
        run("mkswap", &[], &path);
        let swap = SwapFile { path, _dir: dir };
        run("swapon", &[], &swap.path);
        swap
    }
}

impl Drop for SwapFile {
    fn drop(&mut self) {
        // Pages still in it are read back in first; the file goes with its directory.
        let off = Command::new("swapoff").arg(&self.path).status();
        if !off.as_ref().is_ok_and(std::process::ExitStatus::success) {
            eprintln!("swapoff {} failed: {off:?}", self.path.display());
        }
    }
}

/// Runs `tool args… path`, panicking with its output when it fails (not root, no such tool).
fn run(tool: &str, args: &[&str], path: &Path) {
    let output = Command::new(tool)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("running {tool}: {e} (util-linux; the test runs as root)"));
    assert!(
        output.status.success(),
        "{tool} {} failed (the test needs root and a file system that takes swap files): {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Turns off and deletes the swap files of runs that were killed: each file's directory is
/// named after the process that made it, and that process is gone.
fn remove_leftovers() {
    let swaps = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
    for line in swaps.lines().skip(1) {
        let Some(file) = line.split_whitespace().next() else {
            continue;
        };
        let maker = Path::new(file)
            .parent()
            .and_then(Path::file_name)
            .and_then(|d| {
                d.to_str()?
                    .strip_prefix(PREFIX)?
                    .split('-')
                    .next()?
                    .parse::<u32>()
                    .ok()
            });
        if let Some(pid) = maker
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = Command::new("swapoff").arg(file).status();
            let _ = std::fs::remove_file(file);
        }
    }
}

/// One mapping of a process, from `/proc/PID/smaps`.
#[derive(Debug, Clone)]
struct Mapping {
    start: u64,
    end: u64,
    perms: String,
    name: String,
    rss_kib: u64,
    swap_kib: u64,
}

fn mappings(pid: u32) -> Vec<Mapping> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).expect("reading smaps");
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            let perms = words.next().unwrap_or_default().to_owned();
            let name = words.nth(3).unwrap_or_default().to_owned();
            out.push(Mapping {
                start,
                end,
                perms,
                name,
                rss_kib: 0,
                swap_kib: 0,
            });
        } else if let Some(last) = out.last_mut() {
            let mut kib = || words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            match first {
                "Rss:" => last.rss_kib = kib(),
                "Swap:" => last.swap_kib = kib(),
                _ => {}
            }
        }
    }
    out
}

/// Where the guest's linear memory is in the host: its kept-resident region's start (the
/// memory's base) and the mapping after its data image (its heap, where scribbles go).
struct GuestMemory {
    base: u64,
    heap: Mapping,
}

/// The guest memory whose heap holds the most (resident or swapped): the one an idle
/// instance has just filled, where the other slots were reset.
fn guest_memory(pid: u32) -> GuestMemory {
    let maps = mappings(pid);
    let memories = (1..maps.len().saturating_sub(1))
        .filter(|&i| maps[i].name.contains(IMAGE_MAPPING))
        .map(|image| {
            let (below, heap) = (&maps[image - 1], &maps[image + 1]);
            assert!(
                below.end == maps[image].start && below.perms == "rw-p",
                "a guest's stack region lies right below its data image: {below:?}"
            );
            assert!(
                heap.start == maps[image].end && heap.perms == "rw-p",
                "a guest's heap lies right above its data image: {heap:?}"
            );
            GuestMemory {
                base: below.start,
                heap: heap.clone(),
            }
        });
    memories
        .max_by_key(|m| m.heap.rss_kib + m.heap.swap_kib)
        .unwrap_or_else(|| panic!("no guest memory image is mapped: {maps:#?}"))
}

/// Asks the kernel to page out every private writable mapping of `pid` (its guest memories
/// among them): with swap on, their dirty anonymous pages go to swap.
#[allow(
    unsafe_code,
    reason = "pidfd_open and process_madvise have no wrapper in the crates at hand"
)]
fn page_out(pid: u32) {
    // SAFETY: plain syscalls on a pidfd this function owns; the iovec describes another
    // process's address range, which the kernel checks (nothing here dereferences it).
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0);
        assert!(
            pidfd >= 0,
            "pidfd_open({pid}): {}",
            std::io::Error::last_os_error()
        );
        for mapping in mappings(pid).iter().filter(|m| m.perms == "rw-p") {
            let range = libc::iovec {
                iov_base: mapping.start as *mut libc::c_void,
                iov_len: usize::try_from(mapping.end - mapping.start).expect("a range"),
            };
            // Some mappings refuse (e.g. locked ones); the guest's are checked after.
            libc::syscall(
                libc::SYS_process_madvise,
                pidfd,
                &raw const range,
                1,
                libc::MADV_PAGEOUT,
                0,
            );
        }
        libc::close(i32::try_from(pidfd).expect("an fd"));
    }
}

/// Pages in `start..end` of `pid` whose pagemap entry says "swapped" (bit 62).
fn swapped_pages(pid: u32, start: u64, end: u64) -> u64 {
    use std::io::{Read, Seek, SeekFrom};
    let mut pagemap =
        std::fs::File::open(format!("/proc/{pid}/pagemap")).expect("opening pagemap (root)");
    pagemap
        .seek(SeekFrom::Start(start / PAGE * 8))
        .expect("seeking pagemap");
    let mut entries = vec![0u8; usize::try_from((end - start) / PAGE * 8).expect("a size")];
    pagemap.read_exact(&mut entries).expect("reading pagemap");
    let (entries, _) = entries.as_chunks::<8>();
    entries
        .iter()
        .map(|e| u64::from_le_bytes(*e))
        .filter(|entry| entry & (1 << 62) != 0)
        .count() as u64
}

/// What [`swap_out_guest`] saw.
#[derive(Debug)]
pub struct SwappedOut {
    /// KiB of the guest's heap in swap (smaps).
    pub heap_kib: u64,
    /// Pages of the guest's kept-resident region in swap (pagemap).
    pub kept_pages: u64,
}

/// Pages `host`'s memory out and waits until at least `heap_kib` of its guest's heap is in
/// swap and some of it lies in the kept-resident region.
pub fn swap_out_guest(host: &support::Host, heap_kib: u64) -> SwappedOut {
    let pid = host.pid();
    let memory = guest_memory(pid);
    let kept_end = (memory.base + KEPT_RESIDENT).min(memory.heap.end);
    assert!(
        kept_end > memory.heap.start,
        "the guest's heap starts inside its kept-resident region (base {:#x}): {:?}",
        memory.base,
        memory.heap
    );
    let mut seen = SwappedOut {
        heap_kib: 0,
        kept_pages: 0,
    };
    support::wait_until(
        &format!("{heap_kib} KiB of the guest's heap in swap"),
        Duration::from_secs(30),
        || {
            page_out(pid);
            let heap = mappings(pid)
                .into_iter()
                .find(|m| m.start == memory.heap.start)
                .expect("the heap mapping stays");
            seen = SwappedOut {
                heap_kib: heap.swap_kib,
                kept_pages: swapped_pages(pid, memory.heap.start, kept_end),
            };
            seen.heap_kib >= heap_kib && seen.kept_pages > 0
        },
    );
    seen
}

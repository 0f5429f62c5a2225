//! CPU samples of a running server, each put on one line of the account: `perf record` with
//! DWARF call stacks (`--call-graph dwarf`) on the server's PID while it serves load, read back
//! with `perf script`, and each sample's stack matched against [`LINES`] in order — the first
//! line whose patterns match takes the sample. Guest code is named through the perf map Wasmtime
//! writes (`HEART_HOST_PERFMAP`), so a stack that reaches compiled Wasm is recognised even
//! where unwinding stops there.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Sampling frequency, per second of CPU.
pub(super) const FREQUENCY: u32 = 999;

/// One line of the account: a sample belongs to it when its innermost frame contains one of
/// `leaf` (any frame if empty) and some frame of its stack contains one of `stack` (any stack
/// if empty).
struct Line {
    name: &'static str,
    leaf: &'static [&'static str],
    stack: &'static [&'static str],
}

/// Frames of the pooling allocator's reset of a slot when its instance is dropped.
const SLOT_RESET: &[&str] = &[
    "deallocate_memory",
    "deallocate_table",
    "deallocate_fiber",
    "reset_with_pagemap",
    "decommit_queue",
];

/// The account's lines, in the order a sample is matched against them.
const LINES: &[Line] = &[
    Line {
        name: "pool slot reset: memset of written pages",
        leaf: &["memset"],
        stack: SLOT_RESET,
    },
    Line {
        name: "pool slot reset: PAGEMAP_SCAN walk (kernel)",
        leaf: &[],
        stack: &["do_pagemap_scan"],
    },
    Line {
        name: "pool slot reset: image re-copy, decommit, bookkeeping",
        leaf: &[],
        stack: SLOT_RESET,
    },
    Line {
        name: "store drop (the rest)",
        leaf: &[],
        stack: &[
            "StoreOpaque as core::ops::drop::Drop",
            "drop_glue::<wasmtime::runtime::store",
            "drop_glue::<heart_host::instance::store::HostState",
        ],
    },
    Line {
        name: "store and WASI context construction",
        leaf: &[],
        stack: &["new_store", "HostState>::new", "WasiCtxBuilder"],
    },
    Line {
        name: "instantiation",
        leaf: &[],
        stack: &["instantiate"],
    },
    Line {
        name: "WASI host calls, host side",
        leaf: &[],
        stack: &[
            "cabi_entrypoint",
            "enter_host_from_wasm",
            "component-lower-import",
        ],
    },
    Line {
        name: "guest libcalls (memory.grow, …)",
        leaf: &[],
        stack: &["wasmtime::runtime::vm::libcalls"],
    },
    Line {
        name: "guest code (compiled Wasm)",
        leaf: &[],
        stack: &["/tmp/perf-"],
    },
    Line {
        name: "call into the guest (fiber, typed call)",
        leaf: &[],
        stack: &["wasmtime_internal_fiber", "call_handle", "on_fiber"],
    },
    Line {
        name: "response body from the guest (pipe, collect)",
        leaf: &[],
        stack: &["read_response", "HyperOutgoingBody", "Collect<"],
    },
    Line {
        name: "routing",
        leaf: &[],
        stack: &["Target>::resolve", "route_pattern"],
    },
    Line {
        name: "metrics and Server-Timing",
        leaf: &[],
        stack: &["heart_host::metrics", "server_timing", "prometheus::"],
    },
    Line {
        name: "socket write and waking the client (kernel)",
        leaf: &[],
        stack: &["sock_write_iter", "tcp_sendmsg", "__x64_sys_writev"],
    },
    Line {
        name: "socket read (kernel)",
        leaf: &[],
        stack: &[
            "tcp_recvmsg",
            "sock_read_iter",
            "__x64_sys_recvfrom",
            "__x64_sys_read",
        ],
    },
    Line {
        name: "accept",
        leaf: &[],
        stack: &["accept"],
    },
    Line {
        name: "HTTP/1 parse and framing, the host's request path",
        leaf: &[],
        stack: &["hyper::", "heart_host::http", "httparse"],
    },
    Line {
        name: "epoch ticker thread",
        leaf: &[],
        stack: &["comm:epoch-ticker"],
    },
    Line {
        name: "task scheduling, wake-ups, epoll",
        leaf: &[],
        stack: &["tokio::", "epoll", "futex", "schedule"],
    },
];

/// What is left: allocator, libc and anything the lines above do not name.
pub(super) const OTHER: &str = "other (allocator, libc, …)";

/// The names of the account's lines, in order, then [`OTHER`].
pub(super) fn line_names() -> Vec<&'static str> {
    LINES.iter().map(|l| l.name).chain([OTHER]).collect()
}

/// The line `frames` (innermost first; the first is the thread's `comm:` name) belong to.
fn line_of(frames: &[&str]) -> &'static str {
    let leaf = frames.get(1).copied().unwrap_or_default();
    LINES
        .iter()
        .find(|line| {
            (line.leaf.is_empty() || line.leaf.iter().any(|p| leaf.contains(p)))
                && (line.stack.is_empty()
                    || frames
                        .iter()
                        .any(|frame| line.stack.iter().any(|p| frame.contains(p))))
        })
        .map_or(OTHER, |line| line.name)
}

/// The WASI interface a host-call sample is in (`wasi:http/types`, …), from the module path of
/// the bindings in its stack (`…::bindings::…::wasi::http::types::add_to_linker_instance…`).
fn interface_of(frames: &[&str]) -> Option<String> {
    frames.iter().find_map(|frame| {
        let (_, bindings) = frame.split_once("bindings::")?;
        let (_, rest) = bindings.split_once("wasi::")?;
        let mut parts = rest.split("::");
        let (package, interface) = (parts.next()?, parts.next()?);
        Some(format!("wasi:{package}/{interface}"))
    })
}

/// Samples per line (and per WASI interface within the host calls).
#[derive(Debug, Default, Clone)]
pub(super) struct Profile {
    /// Samples by line name.
    pub(super) lines: BTreeMap<&'static str, u64>,
    /// Host-call samples by WASI interface.
    pub(super) interfaces: BTreeMap<String, u64>,
    /// All samples.
    pub(super) total: u64,
    /// Seconds from the first sample to the last.
    pub(super) span: f64,
}

impl Profile {
    /// Sorts the samples of `perf script` output (`-F comm,time,ip,sym,dso`) into lines.
    pub(super) fn of_script(script: &str) -> Self {
        let mut profile = Self::default();
        let (mut first, mut last) = (f64::MAX, f64::MIN);
        for sample in script.split("\n\n") {
            let mut lines = sample.lines().filter(|l| !l.trim().is_empty());
            let Some(header) = lines.next() else {
                continue;
            };
            let mut words = header.split_whitespace();
            let comm = format!("comm:{}", words.next().unwrap_or_default());
            if let Some(time) = words.find_map(|w| w.strip_suffix(':')?.parse::<f64>().ok()) {
                first = first.min(time);
                last = last.max(time);
            }
            let frames: Vec<&str> = std::iter::once(comm.as_str())
                .chain(lines.map(str::trim))
                .collect();
            let line = line_of(&frames);
            *profile.lines.entry(line).or_default() += 1;
            if line == "WASI host calls, host side" {
                let interface = interface_of(&frames).unwrap_or_else(|| "(other)".into());
                *profile.interfaces.entry(interface).or_default() += 1;
            }
            profile.total += 1;
        }
        profile.span = (last - first).max(0.0);
        profile
    }

    /// Microseconds of CPU per request that `samples` stand for, requests having been served at
    /// `rate` per second while they were taken.
    pub(super) fn micros(&self, samples: u64, rate: f64) -> f64 {
        samples as f64 / f64::from(FREQUENCY) / (rate * self.span) * 1e6
    }
}

/// Records `pid` for `seconds` into `data`.
pub(super) fn record(pid: u32, seconds: f64, data: &Path) -> Result<()> {
    let status = Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-F"])
        .arg(FREQUENCY.to_string())
        // A 16 KiB stack copy per sample: a buffer large enough that none are lost.
        .args(["--call-graph", "dwarf,16384", "--mmap-pages", "16M", "-p"])
        .arg(pid.to_string())
        .arg("-o")
        .arg(data)
        .args(["--", "sleep"])
        .arg(format!("{seconds}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running perf record")?;
    if !status.success() {
        bail!(
            "perf record on PID {pid} failed ({status}): perf needs root or perf_event_paranoid ≤ 1"
        );
    }
    Ok(())
}

/// The samples [`record`] wrote into `data`, on their lines.
pub(super) fn read(data: &Path) -> Result<Profile> {
    let script = Command::new("perf")
        .args(["script", "-F", "comm,time,ip,sym,dso", "-i"])
        .arg(data)
        .stderr(Stdio::null())
        .output()
        .context("running perf script")?;
    if !script.status.success() {
        bail!("perf script failed ({})", script.status);
    }
    Ok(Profile::of_script(&String::from_utf8_lossy(&script.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three samples as `perf script -F comm,time,ip,sym,dso` prints them.
    const SCRIPT: &str = "\
tokio-rt-worker 54723.250000: 
\t    7f9866 __memset_avx512_unaligned_erms (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t    e8a92d wasmtime::runtime::vm::sys::unix::pagemap::reset_with_pagemap::<X> (heart-host)
\t    fce39c <PoolingInstanceAllocator as InstanceAllocator>::deallocate_memory (heart-host)

tokio-rt-worker 54723.500000: 
\t    f15ef7 <wasmtime::runtime::component::store::StoreComponentInstanceId>::get (heart-host)
\t    8e94da <StaticHostFn<wasmtime_wasi_http::p2::bindings::generated::wasi::http::types::add_to_linker_instance<H>::{closure#21}>>::entrypoint (heart-host)
\t    8e9000 <wasmtime_wasi_io::bindings::wasi::io::streams::add_to_linker_instance<H>>::outer (heart-host)
\t    8e9f96 <StaticHostFn<..>>::cabi_entrypoint (heart-host)
\t7f986616ff73 component-trampolines[32]-wasm-call-component-lower-import[21] (/tmp/perf-5708.map)

epoch-ticker 54724.250000: 
\t    1c1d551 clock_nanosleep (libc.so.6)
";

    #[test]
    fn each_sample_lands_on_the_first_line_that_matches_its_stack() {
        let profile = Profile::of_script(SCRIPT);
        assert_eq!(profile.total, 3);
        assert!((profile.span - 1.0).abs() < 1e-9, "{}", profile.span);
        assert_eq!(
            profile
                .lines
                .get("pool slot reset: memset of written pages"),
            Some(&1)
        );
        assert_eq!(profile.lines.get("WASI host calls, host side"), Some(&1));
        assert_eq!(profile.lines.get("epoch ticker thread"), Some(&1));
        assert_eq!(profile.interfaces.get("wasi:http/types"), Some(&1));
    }

    #[test]
    fn a_stack_no_line_names_is_other() {
        assert_eq!(line_of(&["comm:x", "malloc (libc.so.6)"]), OTHER);
        assert_eq!(
            line_of(&["comm:x", "memset (libc)", "some::caller"]),
            OTHER,
            "memset outside a slot reset is not the reset's"
        );
    }

    #[test]
    fn micros_per_request_scale_with_the_sampling_frequency() {
        let profile = Profile {
            span: 2.0,
            ..Profile::default()
        };
        // Samples over two seconds at 500 requests a second: 1,000 requests; half the samples
        // are 1 s of CPU, 1,000 µs a request.
        let us = profile.micros(u64::from(FREQUENCY), 500.0);
        assert!((us - 1000.0).abs() < 1e-9, "{us}");
    }
}

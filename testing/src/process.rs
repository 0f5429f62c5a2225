//! Processes as `/proc` shows them (through procfs): memory figures, status and process trees,
//! for the benchmarks' per-container costs and the node test's security checks.

use std::collections::BTreeMap;

use procfs::process::Process;
pub use procfs::process::Status;

/// (PSS, RSS) in KiB from `/proc/PID/smaps_rollup`; zeros for a process that is gone.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let [pss, rss] = rollup_kib(pid, ["Pss", "Rss"]);
    (pss, rss)
}

/// The `/proc/PID/smaps_rollup` fields `names` (e.g. `Pss_Anon`) in KiB, in that order; zero for
/// a field it lacks and for a process that is gone.
pub fn rollup_kib<const N: usize>(pid: u32, names: [&str; N]) -> [u64; N] {
    let rollup = process(pid).and_then(|p| p.smaps_rollup().ok());
    let map = rollup
        .as_ref()
        .and_then(|r| r.memory_map_rollup.iter().next());
    names.map(|name| {
        map.and_then(|map| map.extension.map.get(name).copied())
            .map_or(0, |bytes| bytes / 1024)
    })
}

/// The resident set size of `pid` in bytes (`VmRSS`); `None` for a process that is gone.
pub fn resident_bytes(pid: u32) -> Option<u64> {
    Some(process(pid)?.status().ok()?.vmrss? * 1024)
}

/// The CPU time `pid` has used, user and system, in seconds (`/proc/PID/stat`, at clock-tick
/// resolution); `None` for a process that is gone.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = process(pid)?.stat().ok()?;
    Some((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
}

/// `pid` and every process below it.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (child, parent) in parents() {
        children.entry(parent).or_default().push(child);
    }
    let mut found = vec![pid];
    let mut next = 0;
    while let Some(&p) = found.get(next) {
        found.extend(children.get(&p).into_iter().flatten());
        next += 1;
    }
    found
}

/// The command line of `pid`, its arguments joined by spaces.
pub fn command_line(pid: u32) -> String {
    process(pid)
        .and_then(|p| p.cmdline().ok())
        .map(|args| args.join(" "))
        .unwrap_or_default()
}

/// `/proc/PID/status`, parsed; `None` for a process that is gone.
pub fn status(pid: u32) -> Option<Status> {
    process(pid)?.status().ok()
}

/// The real UID of `pid`.
pub fn uid(pid: u32) -> Option<u32> {
    Some(status(pid)?.ruid)
}

/// Every process's PID.
pub fn pids() -> Vec<u32> {
    procfs::process::all_processes()
        .map(|all| {
            all.filter_map(|p| u32::try_from(p.ok()?.pid()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Process `pid`, if it exists.
fn process(pid: u32) -> Option<Process> {
    Process::new(i32::try_from(pid).ok()?).ok()
}

/// Every process's (PID, parent PID).
fn parents() -> Vec<(u32, u32)> {
    pids()
        .into_iter()
        .filter_map(|pid| {
            let parent = process(pid)?.stat().ok()?.ppid;
            Some((pid, u32::try_from(parent).ok()?))
        })
        .collect()
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_is_in_its_own_tree() {
        let me = std::process::id();
        let (pss, rss) = memory_kib(me);
        assert!(pss > 0 && rss >= pss, "{pss} {rss}");
        assert_eq!(tree(me)[0], me);
        assert!(pids().contains(&me));
        let resident = resident_bytes(me).expect("VmRSS");
        assert!(resident / 1024 >= rss / 2, "{resident} B against {rss} KiB");
        assert_eq!(uid(me), Some(nix::unistd::getuid().as_raw()));
        assert!(
            command_line(me).contains("heart_testing"),
            "{}",
            command_line(me)
        );
        let child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep");
        assert!(tree(me).contains(&child.id()));
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
    }
}

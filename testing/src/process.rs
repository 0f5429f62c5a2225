//! Processes as `/proc` shows them: memory figures and process trees, for the benchmarks'
//! per-container costs.

use std::collections::BTreeMap;

/// (PSS, RSS) in KiB from `/proc/PID/smaps_rollup`; zeros for a process that is gone.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("Pss:"), field("Rss:"))
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
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

/// The value of `key` in `/proc/PID/status` (e.g. `Uid`, `CapEff`), trimmed.
pub fn status_field(pid: u32, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let prefix = format!("{key}:");
    let value = status.lines().find_map(|l| l.strip_prefix(&prefix))?;
    Some(value.trim().to_owned())
}

/// The real UID of `pid`.
pub fn uid(pid: u32) -> Option<u32> {
    status_field(pid, "Uid")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Every process's PID.
pub fn pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every process's (PID, parent PID).
fn parents() -> Vec<(u32, u32)> {
    pids()
        .into_iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command's closing parenthesis: state, then the parent's PID.
            let rest = &stat[stat.rfind(')')? + 1..];
            let parent = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, parent))
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
        let real = status_field(me, "Uid").expect("a Uid line");
        assert_eq!(
            uid(me).map(|u| u.to_string()).as_deref(),
            real.split('\t').next()
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

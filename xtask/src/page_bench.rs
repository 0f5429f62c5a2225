//! `cargo xtask page-bench`: the page's first frame in real headless Chromium
//! (`tests/browser/first-frame.bench.mjs`): navigation start → first heart on the canvas, long
//! tasks during load and the transfer size, as medians over first visits to the release
//! heart-host serving the built app.

use anyhow::Result;

use crate::cmd::run;

/// Builds the app and the release host, then runs the benchmark for `runs` first visits.
pub fn page_bench(runs: u32) -> Result<()> {
    crate::system::ensure(crate::system::Purpose::Test)?;
    crate::build::all()?;
    let host = crate::build::release_host(&[])?;
    let dir = crate::test::browser_dir()?;
    run(std::process::Command::new("node")
        .arg("first-frame.bench.mjs")
        .arg(runs.to_string())
        .current_dir(&dir)
        .env("HEART_HOST_BIN", host))
}

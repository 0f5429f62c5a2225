//! `cargo xtask up`: build everything, then serve the app with heart-host on 127.0.0.1:3000.

use anyhow::Result;

use crate::cmd::{cargo, run};

/// Builds the components and runs `heart-host up`, passing `extra` arguments through.
pub fn up(extra: &[String]) -> Result<()> {
    crate::build::all()?;
    let mut host = cargo();
    host.args([
        "run",
        "--locked",
        "-p",
        "heart-host",
        "--",
        "up",
        "--from",
        "spin.toml",
    ]);
    host.args(extra);
    run(&mut host)
}

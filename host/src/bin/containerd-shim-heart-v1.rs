//! `containerd-shim-heart-v1`: containerd's runtime `io.containerd.heart.v1`, serving
//! heart-display (and any WASI HTTP component) with the heart-host library.

use containerd_shim_wasm::shim::{Cli, Config};
use heart_host::shim::HeartShim;

fn main() {
    HeartShim::run(Config::default());
}

//! `containerd-shim-heart-v1`: containerd's runtime `io.containerd.heart.v1`.

use containerd_shim_heart::HeartShim;
use containerd_shim_wasm::shim::{Cli, Config};

fn main() {
    HeartShim::run(Config::default());
}

//! `containerd-shim-heart-v1`: containerd's runtime `io.containerd.heart.v1`.

use containerd_shim_heart::{HeartShim, dead_shim, node_cache};
use containerd_shim_wasm::shim::{Cli, Config, Shim};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((namespace, id)) = dead_shim::delete_call(&args) {
        // containerd runs `delete` in the bundle after a shim died: clean up what it ran.
        let bundle = std::env::current_dir().unwrap_or_default();
        let dir = dead_shim::state_dir(&bundle, HeartShim::name(), &namespace, &id);
        if let Err(e) = dead_shim::delete_by_force(&dir) {
            eprintln!("deleting container {id} after its shim died: {e}");
        }
    }
    // Each Wasm compiles once per node, in this (root) process, before its container exists.
    containerd_shimkit::sandbox::shim::set_before_create(node_cache::before_create);
    HeartShim::run(Config::default());
}

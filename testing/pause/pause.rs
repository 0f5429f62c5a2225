//! The node tests' pod sandbox ("pause") program: it holds the pod's namespaces and does
//! nothing else until it is killed. Built statically by `cargo xtask node-fixtures`, so its
//! image is one file; nothing is pulled from a registry.

fn main() {
    loop {
        std::thread::park();
    }
}

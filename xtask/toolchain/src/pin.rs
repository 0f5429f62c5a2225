//! The pinned toolchain: one Rust release for every build, lint and test of the project.

/// The release (rustup's toolchain name without the host triple).
pub const CHANNEL: &str = "1.99.1";

/// Components the suite runs (`cargo fmt`, `cargo clippy`); rustup's minimal profile brings
/// rustc, cargo and the standard library.
pub const COMPONENTS: [&str; 2] = ["rustfmt", "clippy"];

/// The Wasm targets: the server-side components (`wasm32-wasip2`) and the browser bundle
/// (`wasm32-unknown-unknown`).
pub const TARGETS: [&str; 2] = ["wasm32-wasip2", "wasm32-unknown-unknown"];

/// The build of the release heart-host that `cargo xtask up` serves (its cargo arguments):
/// started early by the toolchain step and then again by xtask, which must ask for exactly the
/// same build to find it done.
pub const UP_HOST_BUILD: [&str; 7] = [
    "build",
    "--locked",
    "--release",
    "-p",
    "heart-host",
    "--bin",
    "heart-host",
];

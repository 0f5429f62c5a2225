//! The Rust toolchain heart-display builds with, and getting it with rustup.
//!
//! `cargo xtask …` runs this crate's binary first, under rustup's default toolchain (whatever
//! it is): it installs the pinned toolchain with its components and targets where they are
//! missing — on a machine where `RUSTUP_AUTO_INSTALL=0` rustup would not — and then runs
//! xtask under it. The project has no `rust-toolchain.toml` for that reason: rustup resolves
//! such a file before cargo starts and, where it does not install on demand, stops every
//! `cargo` command at once.
//!
//! - [`pin`]: the toolchain, its components and targets, and `up`'s host build.
//! - [`rustup`]: what rustup has installed, and installing the rest.
//! - [`run_env`]: what a cargo started from a `cargo run` program must not inherit.

pub mod pin;
pub mod run_env;
pub mod rustup;

pub use pin::{CHANNEL, COMPONENTS, TARGETS, UP_HOST_BUILD};
pub use run_env::clear_cargo_run_env;
pub use rustup::{ensure_installed, Error};

//! `heart-node-installer`: what the chart's node-installer DaemonSet runs on each node, with the
//! node's root file system mounted at `--host-root`:
//!
//! - [`shim_binary`]: `containerd-shim-heart-v1` copied onto the node when it differs;
//! - [`containerd_config`]: the `heart` runtime added to containerd's `config.toml`, every byte
//!   outside its table kept, a config that does not parse left untouched;
//! - [`host_command`]: containerd restarted on the node, only when something changed;
//! - [`node_label`]: the node labelled through the Kubernetes API once it can run heart pods
//!   (the RuntimeClass schedules onto that label);
//! - [`install`]: the steps in order, and what each did.

pub mod containerd_config;
pub mod host_command;
pub mod install;
pub mod node_label;
pub mod shim_binary;

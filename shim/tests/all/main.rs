//! The shim's tests, one binary: under real containerd with `ctr` (`containerd`), and the
//! chart's pod through containerd's CRI as a kubelet runs it (`node`), and that pod through a
//! node's daemons dying (`node_faults`). All need root.

mod containerd;
mod node;
mod node_cache;
mod node_faults;
mod node_installer;
mod node_traces;

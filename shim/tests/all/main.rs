//! The shim's tests, one binary: under real containerd with `ctr` (`containerd`), and the
//! chart's pod through containerd's CRI as a kubelet runs it (`node`). Both need root.

mod containerd;
mod node;

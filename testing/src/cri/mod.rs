//! The kubelet's side of a Kubernetes node, for the node tests and the density benchmark
//! (feature `cri`; `pod-plan` builds only [`checked_object`] and [`pod_template`]): a rendered
//! chart's pod template read as the kubelet reads it, turned into
//! CRI calls on a private containerd with the heart runtime handler.
//!
//! - [`checked_object`]: a JSON object read field by field, naming what is left unread;
//! - [`client`]: a blocking CRI client over containerd's socket (k8s-cri, tonic);
//! - [`pod_template`]: pod template → [`PodPlan`], failing on any field it does not translate;
//! - [`cri_config`]: [`PodPlan`] → the sandbox and container configs a kubelet sends;
//! - [`config_volume`]: a ConfigMap volume in the kubelet's atomic-writer layout;
//! - [`node`]: containerd with CRI on, the images imported, a pod run and probed.

pub mod checked_object;
#[cfg(feature = "cri")]
pub mod client;
#[cfg(feature = "cri")]
pub mod config_volume;
#[cfg(feature = "cri")]
pub mod cri_config;
#[cfg(feature = "cri")]
pub mod node;
pub mod pod_template;

#[cfg(feature = "cri")]
pub use node::{ApiAccess, Fixtures, Node, Pod, PodFailure};
pub use pod_template::{PlanError, PodPlan};

//! Fuzzes the node tests' kubelet side reading a rendered chart's pod template
//! (`heart_testing::cri::PodPlan`): documents as `cargo xtask node-fixtures` writes them
//! (`{"namespace", "documents": […]}`), plus the pod's ordinal. No input may panic; a refusal
//! names the field (`Untranslated`: what is not translated; `Invalid`: its path, the value and
//! what is accepted); a plan is pod `<workload name>-<ordinal>` in the namespace asked for
//! (read as a StatefulSet and as a DaemonSet, the node installer's kind), each of its app
//! containers is found by its name, and its sandbox is privileged exactly when a container is.

use heart_testing::cri::{PlanError, PodPlan};
use serde_json::Value;

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let Ok(fixture) = serde_json::from_slice::<Value>(data) else {
        return; // not JSON: serde_json's, not ours
    };
    let documents = fixture["documents"].as_array().cloned().unwrap_or_default();
    let namespace = fixture["namespace"].as_str().unwrap_or("default");
    let ordinal = fixture["ordinal"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0);
    for kind in ["StatefulSet", "DaemonSet"] {
        check(&documents, kind, namespace, ordinal);
    }
}

/// The properties for the first workload of `kind`.
fn check(documents: &[Value], kind: &str, namespace: &str, ordinal: u32) {
    match PodPlan::from_rendered_kind(documents, kind, namespace, ordinal) {
        Ok(plan) => {
            let workload = documents
                .iter()
                .find(|d| d["kind"] == kind)
                .expect("a plan comes from a workload of the kind asked");
            let name = workload["metadata"]["name"].as_str().unwrap_or_default();
            assert_eq!(plan.name, format!("{name}-{ordinal}"));
            assert_eq!(plan.namespace, namespace);
            for container in &plan.containers {
                assert!(
                    plan.container(&container.name).is_some(),
                    "{} is not found by its name",
                    container.name
                );
            }
            // A privileged container makes a privileged sandbox, and only then.
            let privileged = plan
                .init_containers
                .iter()
                .chain(&plan.containers)
                .any(|c| c.security.privileged);
            assert_eq!(plan.privileged(), privileged);
        }
        Err(error) => {
            match &error {
                PlanError::Untranslated(what) => assert!(!what.is_empty()),
                PlanError::Invalid { at, accepted, .. } => {
                    assert!(!at.is_empty() && !accepted.is_empty(), "{error:?}");
                }
            }
            assert!(!error.to_string().is_empty());
        }
    }
}

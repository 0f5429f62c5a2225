//! A [`PodPlan`] as the CRI messages a kubelet sends (cgroupfs driver, cgroup v1 or v2): the
//! sandbox config for `RunPodSandbox` and a container config for `CreateContainer`. The pod
//! uses the node's network namespace, so its ports and probes are on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;

use super::pod_template::{ContainerPlan, PodPlan, Resources};

/// CRI's namespace modes.
const POD: i32 = cri::NamespaceMode::Pod as i32;
const CONTAINER: i32 = cri::NamespaceMode::Container as i32;
const NODE: i32 = cri::NamespaceMode::Node as i32;

/// The kubelet's CFS period, in microseconds.
const CPU_PERIOD: i64 = 100_000;

impl PodPlan {
    /// The `RunPodSandbox` config: logs under `log_directory`, cgroups under `cgroup_parent`.
    pub fn sandbox_config(
        &self,
        log_directory: &Path,
        cgroup_parent: &str,
    ) -> cri::PodSandboxConfig {
        let mut labels = self.labels.clone();
        labels.extend(self.kubelet_labels());
        cri::PodSandboxConfig {
            metadata: Some(cri::PodSandboxMetadata {
                name: self.name.clone(),
                uid: self.uid.clone(),
                namespace: self.namespace.clone(),
                attempt: 0,
            }),
            log_directory: log_directory.display().to_string(),
            port_mappings: self
                .containers
                .iter()
                .flat_map(|c| c.ports.values())
                .map(|&port| cri::PortMapping {
                    protocol: cri::Protocol::Tcp as i32,
                    container_port: i32::from(port),
                    ..Default::default()
                })
                .collect(),
            labels: labels.into_iter().collect(),
            annotations: self.annotations.clone().into_iter().collect(),
            linux: Some(cri::LinuxPodSandboxConfig {
                cgroup_parent: cgroup_parent.to_owned(),
                security_context: Some(cri::LinuxSandboxSecurityContext {
                    namespace_options: Some(namespaces()),
                    run_as_user: self.security.run_as_user.map(int64),
                    run_as_group: self.security.run_as_group.map(int64),
                    supplemental_groups: self.security.fs_group.into_iter().collect(),
                    seccomp: self.security.seccomp_runtime_default.then(runtime_default),
                    privileged: self.privileged(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The `CreateContainer` config of `container`; `volumes` maps each volume's name to its
    /// directory on the node.
    pub fn container_config(
        &self,
        container: &ContainerPlan,
        volumes: &BTreeMap<String, PathBuf>,
    ) -> cri::ContainerConfig {
        let mut labels = self.kubelet_labels();
        labels.insert(
            "io.kubernetes.container.name".into(),
            container.name.clone(),
        );
        let security = &container.security;
        cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: container.name.clone(),
                attempt: 0,
            }),
            image: Some(cri::ImageSpec {
                image: container.image.clone(),
                ..Default::default()
            }),
            command: container.command.clone(),
            args: container.args.clone(),
            envs: container
                .env
                .iter()
                .map(|(key, value)| cri::KeyValue {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            mounts: container
                .mounts
                .iter()
                .map(|m| cri::Mount {
                    container_path: m.path.clone(),
                    host_path: volumes
                        .get(&m.volume)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    readonly: m.read_only,
                    ..Default::default()
                })
                .collect(),
            labels: labels.into_iter().collect(),
            log_path: format!("{}/0.log", container.name),
            linux: Some(cri::LinuxContainerConfig {
                resources: Some(linux_resources(&container.resources)),
                security_context: Some(cri::LinuxContainerSecurityContext {
                    capabilities: Some(cri::Capability {
                        drop_capabilities: security.drop_capabilities.clone(),
                        ..Default::default()
                    }),
                    namespace_options: Some(namespaces()),
                    run_as_user: security.run_as_user.map(int64),
                    run_as_group: security.run_as_group.map(int64),
                    readonly_rootfs: security.read_only_root,
                    supplemental_groups: self.security.fs_group.into_iter().collect(),
                    no_new_privs: security.no_new_privs,
                    seccomp: security.seccomp_runtime_default.then(runtime_default),
                    privileged: security.privileged,
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }
    }

    fn kubelet_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("io.kubernetes.pod.name".into(), self.name.clone()),
            ("io.kubernetes.pod.namespace".into(), self.namespace.clone()),
            ("io.kubernetes.pod.uid".into(), self.uid.clone()),
        ])
    }
}

/// The node's network (no CNI here), a PID namespace per container, the pod's IPC.
fn namespaces() -> cri::NamespaceOption {
    cri::NamespaceOption {
        network: NODE,
        pid: CONTAINER,
        ipc: POD,
        ..Default::default()
    }
}

fn runtime_default() -> cri::SecurityProfile {
    cri::SecurityProfile {
        profile_type: cri::security_profile::ProfileType::RuntimeDefault as i32,
        ..Default::default()
    }
}

fn int64(value: i64) -> cri::Int64Value {
    cri::Int64Value { value }
}

/// The kubelet's cgroup settings for requests and limits: shares from the CPU request (the
/// limit when there is none), a CFS quota from the CPU limit, the memory limit as is.
fn linux_resources(r: &Resources) -> cri::LinuxContainerResources {
    let request = r.cpu_request_milli.or(r.cpu_limit_milli).unwrap_or(0);
    cri::LinuxContainerResources {
        cpu_shares: (request * 1024 / 1000).max(2),
        cpu_period: r.cpu_limit_milli.map_or(0, |_| CPU_PERIOD),
        cpu_quota: r
            .cpu_limit_milli
            .map_or(0, |milli| (milli * CPU_PERIOD / 1000).max(1000)),
        memory_limit_in_bytes: r.memory_limit.unwrap_or(0),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_limits_become_the_kubelets_cgroup_settings() {
        let r = linux_resources(&Resources {
            cpu_request_milli: Some(50),
            cpu_limit_milli: Some(1000),
            memory_request: Some(64 << 20),
            memory_limit: Some(256 << 20),
        });
        assert_eq!(
            (
                r.cpu_shares,
                r.cpu_period,
                r.cpu_quota,
                r.memory_limit_in_bytes
            ),
            (51, 100_000, 100_000, 256 << 20)
        );
        let none = linux_resources(&Resources::default());
        assert_eq!((none.cpu_shares, none.cpu_quota), (2, 0));
    }
}

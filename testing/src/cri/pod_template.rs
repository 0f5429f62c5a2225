//! A workload's pod template, read the way a kubelet reads the pod it is given: every field is
//! either translated into what the node does ([`PodPlan`]) or named in an error. A field the
//! chart gains that this reader does not know fails the node test with its path, so the chart
//! cannot drift past it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

pub use super::checked_object::PlanError;
use super::checked_object::{Object, Result, bytes, millicores};

/// One pod of a workload, as the node runs it.
#[derive(Debug, Clone)]
pub struct PodPlan {
    /// `metadata.name` (a StatefulSet's pod: `<name>-<ordinal>`).
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
    /// The CRI runtime handler, from the RuntimeClass named by `runtimeClassName`.
    pub handler: String,
    /// The template's labels.
    pub labels: BTreeMap<String, String>,
    /// The template's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The pod-level securityContext.
    pub security: PodSecurity,
    /// `terminationGracePeriodSeconds` (Kubernetes' default: 30).
    pub termination_grace: Duration,
    /// Init containers, run in order to completion.
    pub init_containers: Vec<ContainerPlan>,
    /// The app containers.
    pub containers: Vec<ContainerPlan>,
    /// ConfigMap volumes by volume name: the ConfigMap's data.
    pub volumes: BTreeMap<String, BTreeMap<String, String>>,
    /// hostPath volumes by volume name: the node path (a test may point it at a temp dir).
    pub host_paths: BTreeMap<String, PathBuf>,
    /// The service account whose token the kubelet mounts (`automountServiceAccountToken`
    /// not false), with the API server's address in the env.
    pub service_account: Option<String>,
}

/// The pod's securityContext.
#[derive(Debug, Clone, Default)]
pub struct PodSecurity {
    /// `runAsUser`.
    pub run_as_user: Option<i64>,
    /// `runAsGroup`.
    pub run_as_group: Option<i64>,
    /// `runAsNonRoot`.
    pub run_as_non_root: bool,
    /// `fsGroup`: a supplemental group of every container and the volumes' group.
    pub fs_group: Option<i64>,
    /// `seccompProfile.type: RuntimeDefault`.
    pub seccomp_runtime_default: bool,
}

/// One container.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    /// `name`.
    pub name: String,
    /// `image`.
    pub image: String,
    /// `command` (the image's entrypoint when empty).
    pub command: Vec<String>,
    /// `args`.
    pub args: Vec<String>,
    /// `env`, downward-API values filled in.
    pub env: Vec<(String, String)>,
    /// `ports`: name → containerPort (TCP).
    pub ports: BTreeMap<String, u16>,
    /// `startupProbe`.
    pub startup_probe: Option<HttpProbe>,
    /// `livenessProbe`.
    pub liveness_probe: Option<HttpProbe>,
    /// `readinessProbe`.
    pub readiness_probe: Option<HttpProbe>,
    /// `resources`.
    pub resources: Resources,
    /// The effective securityContext (the container's over the pod's).
    pub security: ContainerSecurity,
    /// `volumeMounts`.
    pub mounts: Vec<MountPlan>,
}

/// An HTTP GET probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProbe {
    /// `httpGet.path`.
    pub path: String,
    /// `httpGet.port`, a named port resolved.
    pub port: u16,
    /// `periodSeconds` (default 10).
    pub period: Duration,
    /// `failureThreshold` (default 3).
    pub failure_threshold: u32,
    /// `timeoutSeconds` (default 1).
    pub timeout: Duration,
}

/// CPU in millicores and memory in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resources {
    /// `requests.cpu`.
    pub cpu_request_milli: Option<i64>,
    /// `limits.cpu`.
    pub cpu_limit_milli: Option<i64>,
    /// `requests.memory`.
    pub memory_request: Option<i64>,
    /// `limits.memory`.
    pub memory_limit: Option<i64>,
}

/// A container's effective securityContext.
#[derive(Debug, Clone, Default)]
pub struct ContainerSecurity {
    /// `runAsUser`.
    pub run_as_user: Option<i64>,
    /// `runAsGroup`.
    pub run_as_group: Option<i64>,
    /// `readOnlyRootFilesystem`.
    pub read_only_root: bool,
    /// `allowPrivilegeEscalation: false`.
    pub no_new_privs: bool,
    /// `capabilities.drop`.
    pub drop_capabilities: Vec<String>,
    /// `seccompProfile.type: RuntimeDefault`.
    pub seccomp_runtime_default: bool,
    /// `privileged`.
    pub privileged: bool,
}

/// A volume mount.
#[derive(Debug, Clone)]
pub struct MountPlan {
    /// The volume's name.
    pub volume: String,
    /// `mountPath`.
    pub path: String,
    /// `readOnly`.
    pub read_only: bool,
}

impl PodPlan {
    /// Pod `ordinal` of the StatefulSet in `documents` (a rendered chart), in `namespace`;
    /// the RuntimeClass and ConfigMaps it names must be among the documents.
    pub fn from_rendered(documents: &[Value], namespace: &str, ordinal: u32) -> Result<PodPlan> {
        Self::from_rendered_kind(documents, "StatefulSet", namespace, ordinal)
    }

    /// As [`PodPlan::from_rendered`], for the first workload of `kind` (`StatefulSet`,
    /// `Deployment` or `DaemonSet`; its pod on this node is `<name>-<ordinal>`).
    pub fn from_rendered_kind(
        documents: &[Value],
        kind: &str,
        namespace: &str,
        ordinal: u32,
    ) -> Result<PodPlan> {
        let find = |kind: &str, name: Option<&str>| {
            documents
                .iter()
                .find(|d| d["kind"] == kind && name.is_none_or(|n| d["metadata"]["name"] == n))
        };
        let workload = find(kind, None)
            .ok_or_else(|| PlanError::Untranslated(format!("a {kind} among the documents")))?;
        let name = format!(
            "{}-{ordinal}",
            workload["metadata"]["name"].as_str().unwrap_or_default()
        );
        let mut template = Object::new(&workload["spec"]["template"], "spec.template")?;
        let metadata = template.object("metadata")?;
        let mut spec = template.object("spec")?;
        template.finish()?;
        let (labels, annotations) = read_metadata(metadata)?;
        let identity = Identity {
            name: name.clone(),
            namespace: namespace.to_owned(),
            uid: format!("heart-node-test-{}-{ordinal}", std::process::id()),
        };

        // No runtime class: the node's default runtime (runc).
        let handler = match spec.string("runtimeClassName")? {
            None => String::new(),
            Some(class) => find("RuntimeClass", Some(&class))
                .and_then(|rc| rc["handler"].as_str())
                .ok_or_else(|| PlanError::Invalid {
                    at: "spec.template.spec.runtimeClassName".into(),
                    value: class.clone(),
                    accepted: "the name of a RuntimeClass among the documents",
                })?
                .to_owned(),
        };
        // The token is mounted unless turned off; other services' variables are never injected
        // here, so enableServiceLinks must be off where set.
        let account = spec
            .string("serviceAccountName")?
            .unwrap_or_else(|| "default".into());
        let service_account = match spec.take("automountServiceAccountToken") {
            Some(Value::Bool(false)) => None,
            None | Some(Value::Bool(true)) => Some(account),
            Some(other) => {
                return Err(PlanError::Invalid {
                    at: format!("{}.automountServiceAccountToken", spec.at),
                    value: other.to_string(),
                    accepted: "true or false",
                });
            }
        };
        if let Some(links) = spec.take("enableServiceLinks")
            && links != &Value::Bool(false)
        {
            return Err(PlanError::Untranslated(format!(
                "{}.enableServiceLinks (only false)",
                spec.at
            )));
        }
        // The scheduler's, not the node's.
        for key in [
            "topologySpreadConstraints",
            "affinity",
            "nodeSelector",
            "tolerations",
            "priorityClassName",
        ] {
            spec.take(key);
        }
        let security = match spec.take_object("securityContext")? {
            Some(o) => read_pod_security(o)?,
            None => PodSecurity::default(),
        };
        let termination_grace = Duration::from_secs(
            spec.take("terminationGracePeriodSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(30),
        );
        let mut volumes = BTreeMap::new();
        let mut host_paths = BTreeMap::new();
        for mut volume in spec.objects("volumes")? {
            let volume_name = volume.string("name")?.unwrap_or_default();
            if let Some(mut host) = volume.take_object("hostPath")? {
                let path = host.string("path")?.unwrap_or_default();
                let kind = host.string("type")?.unwrap_or_default();
                let at = format!("{}.type", host.at);
                host.finish()?;
                volume.finish()?;
                // The node's paths exist: Directory is checked by the mount itself.
                if !["", "Directory"].contains(&kind.as_str()) {
                    return Err(PlanError::Invalid {
                        at,
                        value: kind,
                        accepted: "Directory (or unset)",
                    });
                }
                host_paths.insert(volume_name, PathBuf::from(path));
                continue;
            }
            let mut config_map = volume.object("configMap")?;
            let map_name = config_map.string("name")?.unwrap_or_default();
            config_map.finish()?;
            volume.finish()?;
            let data = find("ConfigMap", Some(&map_name))
                .and_then(|cm| serde_json::from_value(cm["data"].clone()).ok())
                .ok_or_else(|| PlanError::Invalid {
                    at: "spec.template.spec.volumes[].configMap.name".into(),
                    value: map_name,
                    accepted: "a ConfigMap with string data among the documents",
                })?;
            volumes.insert(volume_name, data);
        }
        let mut containers_of = |key: &str| -> Result<Vec<ContainerPlan>> {
            spec.objects(key)?
                .into_iter()
                .map(|c| read_container(c, &security, &identity))
                .collect()
        };
        let init_containers = containers_of("initContainers")?;
        let containers = containers_of("containers")?;
        spec.finish()?;
        Ok(PodPlan {
            name,
            namespace: identity.namespace,
            uid: identity.uid,
            handler,
            labels,
            annotations,
            security,
            termination_grace,
            init_containers,
            containers,
            volumes,
            host_paths,
            service_account,
        })
    }

    /// The app container named `name`.
    pub fn container(&self, name: &str) -> Option<&ContainerPlan> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Whether a container is privileged (then so is the sandbox, as the kubelet asks).
    pub fn privileged(&self) -> bool {
        self.init_containers
            .iter()
            .chain(&self.containers)
            .any(|c| c.security.privileged)
    }
}

impl ContainerPlan {
    /// Moves port `name` to `port`, with the probes aimed at it and the env values that name
    /// it (the chart passes its port as `PORT`): pods sharing the node's network each need
    /// their own.
    pub fn move_port(&mut self, name: &str, port: u16) {
        let Some(old) = self.ports.insert(name.to_owned(), port) else {
            return;
        };
        let probes = [
            &mut self.startup_probe,
            &mut self.liveness_probe,
            &mut self.readiness_probe,
        ];
        for probe in probes.into_iter().flatten() {
            if probe.port == old {
                probe.port = port;
            }
        }
        for (_, value) in &mut self.env {
            if *value == old.to_string() {
                *value = port.to_string();
            }
        }
    }
}

/// What the downward API can tell a container about its pod.
struct Identity {
    name: String,
    namespace: String,
    uid: String,
}

/// This node's name, as `spec.nodeName` gives it: the host name.
fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

fn read_metadata(
    mut metadata: Object<'_>,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    let labels = metadata.string_map("labels")?;
    let annotations = metadata.string_map("annotations")?;
    metadata.finish()?;
    Ok((labels, annotations))
}

fn read_pod_security(mut o: Object<'_>) -> Result<PodSecurity> {
    let security = PodSecurity {
        run_as_user: o.int("runAsUser")?,
        run_as_group: o.int("runAsGroup")?,
        run_as_non_root: o.bool("runAsNonRoot")?.unwrap_or(false),
        fs_group: o.int("fsGroup")?,
        seccomp_runtime_default: read_seccomp(&mut o)?,
    };
    o.finish()?;
    Ok(security)
}

fn read_seccomp(o: &mut Object<'_>) -> Result<bool> {
    let Some(mut profile) = o.take_object("seccompProfile")? else {
        return Ok(false);
    };
    let kind = profile.string("type")?.unwrap_or_default();
    let at = format!("{}.type", profile.at);
    profile.finish()?;
    if kind != "RuntimeDefault" {
        return Err(PlanError::Invalid {
            at,
            value: kind,
            accepted: "RuntimeDefault",
        });
    }
    Ok(true)
}

fn read_container(
    mut c: Object<'_>,
    pod: &PodSecurity,
    identity: &Identity,
) -> Result<ContainerPlan> {
    let name = c.string("name")?.unwrap_or_default();
    let image = c.string("image")?.unwrap_or_default();
    // Images are imported on the node beforehand: IfNotPresent and Never find them.
    let pull = c.string("imagePullPolicy")?;
    if pull.as_deref() == Some("Always") {
        return Err(PlanError::Invalid {
            at: format!("{}.imagePullPolicy", c.at),
            value: "Always".into(),
            accepted: "IfNotPresent or Never (no registry here)",
        });
    }
    let command = c.strings("command")?;
    let args = c.strings("args")?;
    let mut env = Vec::new();
    for mut var in c.objects("env")? {
        let key = var.string("name")?.unwrap_or_default();
        let value = match var.string("value")? {
            Some(v) => v,
            None => downward_value(var.object("valueFrom")?, identity)?,
        };
        var.finish()?;
        env.push((key, value));
    }
    let mut ports = BTreeMap::new();
    for mut port in c.objects("ports")? {
        let number = port.int("containerPort")?.unwrap_or_default();
        let port_name = port.string("name")?.unwrap_or_default();
        let protocol = port.string("protocol")?.unwrap_or_else(|| "TCP".into());
        if protocol != "TCP" {
            return Err(PlanError::Invalid {
                at: format!("{}.protocol", port.at),
                value: protocol,
                accepted: "TCP",
            });
        }
        port.finish()?;
        ports.insert(port_name, u16::try_from(number).unwrap_or_default());
    }
    let mut probe = |key: &str| -> Result<Option<HttpProbe>> {
        c.take_object(key)?
            .map(|p| read_probe(p, &ports))
            .transpose()
    };
    let startup_probe = probe("startupProbe")?;
    let liveness_probe = probe("livenessProbe")?;
    let readiness_probe = probe("readinessProbe")?;
    let resources = match c.take_object("resources")? {
        Some(r) => read_resources(r)?,
        None => Resources::default(),
    };
    let security = read_container_security(c.take_object("securityContext")?, pod)?;
    let mut mounts = Vec::new();
    for mut m in c.objects("volumeMounts")? {
        mounts.push(MountPlan {
            volume: m.string("name")?.unwrap_or_default(),
            path: m.string("mountPath")?.unwrap_or_default(),
            read_only: m.bool("readOnly")?.unwrap_or(false),
        });
        m.finish()?;
    }
    c.finish()?;
    Ok(ContainerPlan {
        name,
        image,
        command,
        args,
        env,
        ports,
        startup_probe,
        liveness_probe,
        readiness_probe,
        resources,
        security,
        mounts,
    })
}

fn downward_value(mut from: Object<'_>, identity: &Identity) -> Result<String> {
    let mut field = from.object("fieldRef")?;
    let path = field.string("fieldPath")?.unwrap_or_default();
    field.take("apiVersion");
    let at = format!("{}.fieldPath", field.at);
    field.finish()?;
    from.finish()?;
    match path.as_str() {
        "metadata.name" => Ok(identity.name.clone()),
        "metadata.namespace" => Ok(identity.namespace.clone()),
        "metadata.uid" => Ok(identity.uid.clone()),
        "spec.nodeName" => Ok(node_name()),
        _ => Err(PlanError::Invalid {
            at,
            value: path,
            accepted: "metadata.name, metadata.namespace, metadata.uid or spec.nodeName",
        }),
    }
}

fn read_probe(mut p: Object<'_>, ports: &BTreeMap<String, u16>) -> Result<HttpProbe> {
    let mut get = p.object("httpGet")?;
    let path = get.string("path")?.unwrap_or_else(|| "/".into());
    let port = match get.take("port") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(name)) => ports.get(name).copied(),
        _ => None,
    }
    .ok_or_else(|| PlanError::Invalid {
        at: format!("{}.port", get.at),
        value: format!("{:?}", get.map.get("port")),
        accepted: "a port number or the name of one of the container's ports",
    })?;
    get.finish()?;
    let seconds = |p: &mut Object<'_>, key: &str, default: u64| -> Result<u64> {
        Ok(p.int(key)?.map_or(default, |v| v.unsigned_abs()))
    };
    let probe = HttpProbe {
        path,
        port,
        period: Duration::from_secs(seconds(&mut p, "periodSeconds", 10)?),
        failure_threshold: u32::try_from(seconds(&mut p, "failureThreshold", 3)?)
            .unwrap_or(u32::MAX),
        timeout: Duration::from_secs(seconds(&mut p, "timeoutSeconds", 1)?),
    };
    p.finish()?;
    Ok(probe)
}

fn read_resources(mut r: Object<'_>) -> Result<Resources> {
    let mut resources = Resources::default();
    for (key, cpu, memory) in [
        (
            "requests",
            &mut resources.cpu_request_milli,
            &mut resources.memory_request,
        ),
        (
            "limits",
            &mut resources.cpu_limit_milli,
            &mut resources.memory_limit,
        ),
    ] {
        let Some(mut amounts) = r.take_object(key)? else {
            continue;
        };
        *cpu = amounts.quantity("cpu", millicores)?;
        *memory = amounts.quantity("memory", bytes)?;
        amounts.finish()?;
    }
    r.finish()?;
    Ok(resources)
}

fn read_container_security(c: Option<Object<'_>>, pod: &PodSecurity) -> Result<ContainerSecurity> {
    let mut security = ContainerSecurity {
        run_as_user: pod.run_as_user,
        run_as_group: pod.run_as_group,
        seccomp_runtime_default: pod.seccomp_runtime_default,
        ..ContainerSecurity::default()
    };
    let mut non_root = pod.run_as_non_root;
    if let Some(mut c) = c {
        security.run_as_user = c.int("runAsUser")?.or(security.run_as_user);
        security.run_as_group = c.int("runAsGroup")?.or(security.run_as_group);
        non_root = c.bool("runAsNonRoot")?.unwrap_or(non_root);
        security.read_only_root = c.bool("readOnlyRootFilesystem")?.unwrap_or(false);
        security.no_new_privs = c.bool("allowPrivilegeEscalation")? == Some(false);
        security.privileged = c.bool("privileged")?.unwrap_or(false);
        if let Some(mut caps) = c.take_object("capabilities")? {
            security.drop_capabilities = caps.strings("drop")?;
            caps.finish()?;
        }
        security.seccomp_runtime_default |= read_seccomp(&mut c)?;
        c.finish()?;
    }
    // The kubelet refuses to start a runAsNonRoot container that would run as root.
    if non_root && security.run_as_user.is_none_or(|uid| uid == 0) {
        return Err(PlanError::Invalid {
            at: "securityContext.runAsUser".into(),
            value: format!("{:?}", security.run_as_user),
            accepted: "a non-zero user with runAsNonRoot (the image's user is not read here)",
        });
    }
    Ok(security)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn documents(container_extra: Value) -> Vec<Value> {
        let mut container = json!({
            "name": "app", "image": "localhost/app:1",
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "PORT", "value": "8080"}
            ],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5},
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
            "securityContext": {"readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}
        });
        for (k, v) in container_extra.as_object().expect("object") {
            container[k] = v.clone();
        }
        vec![
            json!({"kind": "RuntimeClass", "metadata": {"name": "wasm"}, "handler": "heart"}),
            json!({"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"bpm": "72"}}),
            json!({"kind": "StatefulSet", "metadata": {"name": "web"}, "spec": {"template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "runtimeClassName": "wasm",
                    "automountServiceAccountToken": false,
                    "enableServiceLinks": false,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 65532},
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": "cfg"}}]
                }
            }}}),
        ]
    }

    #[test]
    fn a_pod_template_becomes_what_the_node_runs() {
        let plan = PodPlan::from_rendered(&documents(json!({})), "ns", 0).expect("a plan");
        assert_eq!(
            (plan.name.as_str(), plan.handler.as_str()),
            ("web-0", "heart")
        );
        let app = plan.container("app").expect("app");
        assert_eq!(
            app.env,
            [
                ("POD_NAME".into(), "web-0".into()),
                ("PORT".into(), "8080".into())
            ]
        );
        let probe = app.readiness_probe.as_ref().expect("probe");
        assert_eq!((probe.path.as_str(), probe.port), ("/readyz", 8080));
        assert_eq!(app.resources.cpu_limit_milli, Some(500));
        assert_eq!(app.resources.memory_limit, Some(128 << 20));
        assert_eq!(app.security.run_as_user, Some(65532));
        assert!(app.security.read_only_root);
        assert_eq!(plan.volumes["config"]["bpm"], "72");
        assert_eq!(plan.termination_grace, Duration::from_secs(30));
    }

    #[test]
    fn a_moved_port_takes_its_probes_and_env_along() {
        let mut plan = PodPlan::from_rendered(&documents(json!({})), "ns", 0).expect("a plan");
        let app = &mut plan.containers[0];
        app.move_port("http", 9001);
        assert_eq!(app.ports["http"], 9001);
        assert_eq!(app.readiness_probe.as_ref().map(|p| p.port), Some(9001));
        assert!(
            app.env.contains(&("PORT".into(), "9001".into())),
            "{:?}",
            app.env
        );
    }

    #[test]
    fn a_field_nobody_translates_fails_with_its_path() {
        let err = PodPlan::from_rendered(&documents(json!({"stdin": true})), "ns", 0)
            .expect_err("stdin is not translated");
        assert_eq!(
            err,
            PlanError::Untranslated("spec.template.spec.containers[0].stdin".into())
        );
    }

    #[test]
    fn an_unknown_downward_field_and_a_bad_quantity_are_named() {
        let env = json!({"env": [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]});
        let err = PodPlan::from_rendered(&documents(env), "ns", 0).expect_err("podIP");
        assert!(err.to_string().contains("status.podIP"), "{err}");
        let cpu = json!({"resources": {"limits": {"cpu": "lots"}}});
        let err = PodPlan::from_rendered(&documents(cpu), "ns", 0).expect_err("cpu");
        assert!(err.to_string().contains("lots"), "{err}");
    }

    /// A node agent's DaemonSet: no runtime class, its token mounted, privileged, the node's
    /// root as a hostPath volume, the node's name from the downward API.
    fn daemonset(host_path: Value) -> Vec<Value> {
        vec![
            json!({"kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {"template": {
                "metadata": {},
                "spec": {
                    "serviceAccountName": "agent",
                    "priorityClassName": "system-node-critical",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "initContainers": [{
                        "name": "install", "image": "localhost/agent:1",
                        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                        "securityContext": {"privileged": true},
                        "volumeMounts": [{"name": "host", "mountPath": "/host"}]
                    }],
                    "containers": [{"name": "wait", "image": "localhost/agent:1"}],
                    "volumes": [{"name": "host", "hostPath": host_path}]
                }
            }}}),
        ]
    }

    #[test]
    fn a_node_agent_daemonset_is_translated() {
        let docs = daemonset(json!({"path": "/", "type": "Directory"}));
        let plan = PodPlan::from_rendered_kind(&docs, "DaemonSet", "ns", 3).expect("a plan");
        assert_eq!((plan.name.as_str(), plan.handler.as_str()), ("agent-3", ""));
        assert_eq!(plan.service_account.as_deref(), Some("agent"));
        assert_eq!(plan.host_paths["host"], PathBuf::from("/"));
        assert!(plan.privileged());
        let install = &plan.init_containers[0];
        assert_eq!(install.env, [("NODE_NAME".into(), node_name())]);
        assert!(!node_name().is_empty());
        let err = PodPlan::from_rendered_kind(
            &daemonset(json!({"path": "/", "type": "Socket"})),
            "DaemonSet",
            "ns",
            0,
        )
        .expect_err("a socket");
        assert!(err.to_string().contains("Socket"), "{err}");
    }
}

#!/usr/bin/env python3
"""The deploy validation suite: the chart, k8s/, the alert rules and the dashboard, checked by the
real engines — Helm v4 (helm-python-sdk), kubernetes-validate, kubernetes-models (node),
kubectl kustomize and promtool. Run by `cargo xtask test`; exits non-zero on the first failure
with the reason.

    python tests/deploy/validate.py              # validate everything
    python tests/deploy/validate.py --write-k8s  # regenerate k8s/ from the chart
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, latest_version

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "heart-display"
K8S = ROOT / "k8s"
HERE = Path(__file__).resolve().parent
RULES = CHART / "files" / "alerts.rules.yaml"
DASHBOARD = CHART / "files" / "dashboard.json"
RULE_TESTS = ROOT / "tests" / "alerts" / "alerts.test.yaml"
CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "SpinApp", "ScaledObject"}
KUBE_VERSIONS = ["1.29.0", latest_version()]
# What k8s/ is rendered from (see --write-k8s).
K8S_VALUES = {"runtime": {"createRuntimeClass": True}}
K8S_FILES = {
    "RuntimeClass": "runtimeclass.yaml",
    "ConfigMap": "configmap.yaml",
    "StatefulSet": "statefulset.yaml",
    "Service": "services.yaml",
    "PodDisruptionBudget": "poddisruptionbudget.yaml",
    "ServiceMonitor": "servicemonitor.yaml",
    "PrometheusRule": "prometheusrule.yaml",
}


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def ok(message: str) -> None:
    print(f"ok: {message}")


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def chart() -> helm.Chart:
    return helm.Chart.load(CHART)


def render(values: dict, namespace: str = "heart", release: str = "heart-display") -> list[dict]:
    manifests = chart().render(values, name=release, namespace=namespace, is_install=True)
    docs = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def check_lint() -> None:
    for values_file in [None, *sorted((CHART / "ci").glob("*.yaml"))]:
        values = yaml.safe_load(values_file.read_text()) if values_file else None
        report = helm.lint(CHART, values, strict=True, kube_version="v1.29.0")
        problems = [m for m in report["messages"] if m["severity"] >= 2] + [
            {"error": e} for e in report["errors"]
        ]
        label = values_file.name if values_file else "default values"
        if problems:
            fail(f"helm lint --strict ({label}): {problems}")
        ok(f"helm lint --strict, {label}: {len(report['messages'])} info message(s), no warnings")


def renders() -> dict[str, list[dict]]:
    out = {"default values": render({})}
    for values_file in sorted((CHART / "ci").glob("*.yaml")):
        out[values_file.name] = render(yaml.safe_load(values_file.read_text()))
    for label, docs in out.items():
        kinds = sorted({d["kind"] for d in docs})
        ok(f"rendered {label}: {len(docs)} objects ({', '.join(kinds)})")
    return out


def check_core_objects(label: str, docs: list[dict]) -> None:
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except SchemaNotFoundError as e:
                if doc["kind"] not in CRD_KINDS:
                    fail(f"{label}: no schema for {name} on Kubernetes {version}: {e}")
            except kubernetes_validate.ValidationError as e:
                fail(f"{label}: {name} is invalid for Kubernetes {version}: {e.message} at {list(e.path)}")
    ok(f"{label}: every core object valid (strict) for Kubernetes {', '.join(KUBE_VERSIONS)}")


def check_crds(label: str, docs: list[dict]) -> None:
    crds = [d for d in docs if d["kind"] in {"ServiceMonitor", "PrometheusRule", "ScaledObject"}]
    if not crds:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(crds, f)
    result = subprocess.run(["node", str(HERE / "crds.mjs"), f.name], capture_output=True, text=True)
    Path(f.name).unlink()
    if result.returncode != 0:
        fail(f"{label}: kubernetes-models: {result.stdout}{result.stderr}")
    ok(f"{label}: kubernetes-models: {', '.join(result.stdout.split(chr(10))[:-1])}")


def check_standard_labels(label: str, docs: list[dict], managed_by: str) -> None:
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        for key in ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version"]:
            if key not in labels:
                fail(f"{label}: {doc['kind']}/{doc['metadata']['name']} lacks label {key}")
        if labels.get("app.kubernetes.io/managed-by") != managed_by:
            fail(f"{label}: {doc['kind']} managed-by is {labels.get('app.kubernetes.io/managed-by')}")
    ok(f"{label}: standard app.kubernetes.io labels on every object")


def promtool(*args: str) -> str:
    result = subprocess.run(["promtool", *args], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"promtool {' '.join(args)}: {result.stdout}{result.stderr}")
    return result.stdout


def check_rules(label: str, docs: list[dict]) -> None:
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    if len(rules) != 1:
        fail(f"{label}: expected one PrometheusRule, found {len(rules)}")
    spec = rules[0]["spec"]
    if spec != yaml.safe_load(RULES.read_text()):
        fail(f"{label}: the PrometheusRule's rules differ from {RULES.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory() as tmp:
        extracted = Path(tmp) / "extracted.rules.yaml"
        extracted.write_text(yaml.safe_dump(spec, sort_keys=False))
        promtool("check", "rules", "--lint=all", "--lint-fatal", str(extracted))
        tests = yaml.safe_load(RULE_TESTS.read_text())
        tests["rule_files"] = [str(extracted)]
        test_file = Path(tmp) / "alerts.test.yaml"
        test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
        promtool("test", "rules", str(test_file))
    alerts = [r["alert"] for g in spec["groups"] for r in g["rules"]]
    for rule in (r for g in spec["groups"] for r in g["rules"]):
        labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
        required = {"for": rule, "severity": labels, "summary": annotations, "description": annotations}
        missing = [key for key, where in required.items() if key not in where]
        if missing:
            fail(f"alert {rule['alert']} lacks {missing}")
    tested = {t["alertname"] for case in tests["tests"] for t in case["alert_rule_test"]}
    if set(alerts) - tested:
        fail(f"alerts without a promtool test: {sorted(set(alerts) - tested)}")
    ok(f"{label}: rules extracted from the PrometheusRule pass promtool check (lint=all, fatal) and promtool test ({len(alerts)} alerts, each tested)")


def check_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    records = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "5m").replace("$namespace", ".*")
            records.append({"record": f"dashboard:panel{panel['id']}_{target['refId'].lower()}", "expr": expr})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dashboard.rules.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
        promtool("check", "rules", str(path))
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ["beats per instance", "pulse consistency", "config generation", "since last config reload",
                  "jitter", "clients by", "requests", "latency", "error", "instantiation", "memory",
                  "guest cpu", "high-water", "trace spans"]:
        if topic not in titles:
            fail(f"the dashboard has no panel about {topic!r}")
    ok(f"dashboard: {len(records)} expressions in {len(dashboard['panels'])} panels parse with promtool")


def check_schema() -> None:
    base = yaml.safe_load((CHART / "values.yaml").read_text())
    chart().validate_schema(base)
    expected = json.loads((HERE / "bad-values" / "expected.json").read_text())
    files = sorted(p.name for p in (HERE / "bad-values").glob("*.yaml"))
    if sorted(expected) != files:
        fail(f"bad-values/expected.json and the bad values files differ: {sorted(expected)} vs {files}")
    for name, message in expected.items():
        values = merge(base, yaml.safe_load((HERE / "bad-values" / name).read_text()))
        try:
            chart().validate_schema(values)
        except helm.HelmValuesError as e:
            if message not in str(e):
                fail(f"{name}: rejected, but the message lacks {message!r}: {e}")
            continue
        fail(f"{name}: values.schema.json accepted bad values")
    ok(f"values.schema.json accepts values.yaml and rejects {len(expected)} bad values files with the expected messages")


def for_kustomize(docs: list[dict]) -> list[dict]:
    """The chart's render as plain manifests: no Helm bookkeeping labels, no namespace."""
    out = []
    for doc in copy.deepcopy(docs):
        text = json.dumps(doc)
        text = text.replace('"app.kubernetes.io/managed-by": "Helm"', '"app.kubernetes.io/managed-by": "kustomize"')
        doc = json.loads(text)
        for labels in [doc["metadata"].get("labels", {}), doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})]:
            labels.pop("helm.sh/chart", None)
        out.append(doc)
    return out


def write_k8s() -> None:
    docs = for_kustomize(render(K8S_VALUES))
    by_file: dict[str, list[dict]] = {}
    for doc in docs:
        by_file.setdefault(K8S_FILES[doc["kind"]], []).append(doc)
    for file, group in by_file.items():
        header = "# Generated from charts/heart-display by `python tests/deploy/validate.py --write-k8s`; edit the chart.\n"
        body = "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in group)
        (K8S / file).write_text(header + body)
    print(f"wrote {len(docs)} objects into {len(by_file)} files under k8s/")


def check_kustomize() -> None:
    kubectl = Path(sys.executable).parent / "kubectl"
    result = subprocess.run([str(kubectl), "kustomize", str(K8S)], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"kubectl kustomize k8s/: {result.stderr}")
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    key = lambda d: (d["kind"], d["metadata"]["name"])
    expected = sorted(for_kustomize(render(K8S_VALUES)), key=key)
    if sorted(docs, key=key) != expected:
        fail("k8s/ is out of date with the chart: run `python tests/deploy/validate.py --write-k8s`")
    kinds = {d["kind"] for d in docs}
    for kind in K8S_FILES:
        if kind not in kinds:
            fail(f"kubectl kustomize k8s/ renders no {kind}")
    check_core_objects("kubectl kustomize k8s/", docs)
    check_crds("kubectl kustomize k8s/", docs)
    check_standard_labels("kubectl kustomize k8s/", docs, "kustomize")
    check_rules("kubectl kustomize k8s/", docs)
    spinapp = yaml.safe_load((K8S / "spinkube" / "spinapp.yaml").read_text())
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    if spinapp["spec"]["image"].split(":")[-1] != f"{app_version}-spin":
        fail("k8s/spinkube/spinapp.yaml names another image version than the chart")
    names = {v["name"] for v in spinapp["spec"]["variables"]}
    manifest_vars = set(re.findall(r"^(\w+) = \{ default", (ROOT / "spin.toml").read_text(), re.M))
    if names != manifest_vars:
        fail(f"SpinApp variables {sorted(names)} differ from spin.toml's {sorted(manifest_vars)}")
    ok("k8s/: kustomize output equals the chart's render and validates; SpinApp variables match spin.toml")


def readme_deploy_commands() -> tuple[str, list[str], str, int]:
    """The Kubernetes guide's `helm install RELEASE ./charts/heart-display --set …` and `kubectl
    port-forward svc/NAME LOCAL:REMOTE` lines, as a user would type them."""
    text = (ROOT / "docs" / "kubernetes.md").read_text()
    install = re.search(r"^helm install (\S+) \./charts/heart-display((?: --set \S+)*)\s*$", text, re.M)
    forward = re.search(r"^kubectl port-forward svc/(\S+) \d+:(\d+)", text, re.M)
    if not install or not forward:
        fail("docs/kubernetes.md has no `helm install … ./charts/heart-display` or `kubectl port-forward svc/…` line")
    sets = install.group(2).split(" --set ")[1:]
    return install.group(1), sets, forward.group(1), int(forward.group(2))


def check_documented_install() -> None:
    """The Kubernetes guide's install commands work verbatim: the release renders with its `--set` values
    (parsed as Helm parses them), the ConfigMap carries them, and the Service `kubectl
    port-forward` names exists with the port it forwards to. The older nested spelling
    `config.loveLevel` still works."""
    release, sets, service, port = readme_deploy_commands()
    values: dict = {}
    for expression in sets:
        values = merge(values, helm.parse_set_string(expression))
    if values.get("loveLevel") is None:
        fail(f"docs/kubernetes.md's helm install sets no loveLevel: {sets}")
    for label, over in [(f"--set {' --set '.join(sets)}", values), ("config.loveLevel", {"config": {"loveLevel": values["loveLevel"]}})]:
        docs = render(over, namespace="default", release=release)
        config = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config")]
        if len(config) != 1 or config[0]["data"]["love-level"] != str(values["loveLevel"]):
            fail(f"helm install {release} ({label}): the ConfigMap's love-level is not {values['loveLevel']}: {config}")
        services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
        if service not in services:
            fail(f"helm install {release} ({label}): no Service {service} for `kubectl port-forward svc/{service}` (found {sorted(services)})")
        ports = [p["port"] for p in services[service]["spec"]["ports"]]
        if port not in ports:
            fail(f"helm install {release} ({label}): Service {service} has ports {ports}, not {port}")
    ok(f"docs/kubernetes.md: `helm install {release} ./charts/heart-display --set {' --set '.join(sets)}` → ConfigMap love-level {values['loveLevel']}; `kubectl port-forward svc/{service} …:{port}` finds its Service (nested config.loveLevel too)")


def check_workloads(rendered: dict[str, list[dict]]) -> None:
    for label, docs in rendered.items():
        workloads = [d for d in docs if d["kind"] in {"StatefulSet", "Deployment"}]
        if len(workloads) != 1:
            fail(f"{label}: expected one workload, found {len(workloads)}")
        pod = workloads[0]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"] for e in container["env"]}
        if not {"POD_NAME", "POD_NAMESPACE"} <= env:
            fail(f"{label}: POD_NAME/POD_NAMESPACE missing from the app's env")
        security = container["securityContext"]
        if not (security["readOnlyRootFilesystem"] and security["runAsNonRoot"] and security["capabilities"]["drop"] == ["ALL"]):
            fail(f"{label}: the app's securityContext is not locked down: {security}")
        if pod["securityContext"]["seccompProfile"]["type"] != "RuntimeDefault":
            fail(f"{label}: seccomp is not RuntimeDefault")
        if pod["runtimeClassName"] == "heart":
            init = pod.get("initContainers", [])
            if not init or init[0]["command"] != ["/heart_validate.wasm", "/config"]:
                fail(f"{label}: the Wasm config validator is not the init container")
        else:
            if not {"SPIN_VARIABLE_LOVE_LEVEL", "SPIN_VARIABLE_BPM"} <= env:
                fail(f"{label}: the Spin runtime gets no SPIN_VARIABLE_* env")
    ok("workloads: identity env, locked-down securityContext, Wasm init validator (heart) or SPIN_VARIABLE_* (Spin)")


def check_node_installer(rendered: dict[str, list[dict]]) -> None:
    """Installer on (ci/node-installer.yaml): a DaemonSet whose privileged init container gets
    the node's root and its node's name, RBAC that allows only get/patch on nodes, and a
    RuntimeClass scheduling onto the label it sets; off: none of it."""
    for label, docs in rendered.items():
        values = {} if label == "default values" else yaml.safe_load((CHART / "ci" / label).read_text())
        enabled = values.get("nodeInstaller", {}).get("enabled", False)
        daemonsets = [d for d in docs if d["kind"] == "DaemonSet"]
        roles = [d for d in docs if d["kind"] == "ClusterRole"]
        if not enabled:
            if daemonsets or roles:
                fail(f"{label}: installer objects rendered with nodeInstaller off")
            continue
        if len(daemonsets) != 1 or len(roles) != 1:
            fail(f"{label}: expected one installer DaemonSet and ClusterRole")
        rules = roles[0]["rules"]
        if rules != [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]:
            fail(f"{label}: the installer's ClusterRole grants more than get/patch on nodes: {rules}")
        pod = daemonsets[0]["spec"]["template"]["spec"]
        init = pod["initContainers"][0]
        mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
        volumes = {v["name"]: v.get("hostPath", {}).get("path") for v in pod["volumes"]}
        if mounts.get("host") != "/host" or volumes.get("host") != "/" or "--host-root=/host" not in init["args"]:
            fail(f"{label}: the installer does not get the node's root at /host: {mounts} {volumes}")
        env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in init["env"]}
        if env.get("NODE_NAME") != "spec.nodeName":
            fail(f"{label}: the installer is not told its node's name: {env}")
        waiting = pod["containers"][0]["securityContext"]
        if waiting.get("privileged") or not waiting["runAsNonRoot"] or waiting["capabilities"]["drop"] != ["ALL"]:
            fail(f"{label}: the installer's long-running container is not locked down: {waiting}")
        key, value = "heart-display.io/shim", "installed"
        if f"--label={key}={value}" not in init["args"]:
            fail(f"{label}: the installer does not set {key}={value}: {init['args']}")
        classes = [d for d in docs if d["kind"] == "RuntimeClass"]
        if not classes or classes[0]["scheduling"]["nodeSelector"].get(key) != value:
            fail(f"{label}: the RuntimeClass does not schedule onto {key}={value}")
    ok("node installer: DaemonSet with the node's root and name, RBAC get/patch nodes only, RuntimeClass on its label; nothing when off")


def check_tracing(rendered: dict[str, list[dict]]) -> None:
    """Traces on (ci/tracing.yaml): the app gets the standard OTEL_* variables and the
    NetworkPolicy lets spans out to the collector's port (and DNS); off: neither."""
    for label, docs in rendered.items():
        values = {} if label == "default values" else yaml.safe_load((CHART / "ci" / label).read_text())
        endpoint = values.get("tracing", {}).get("otlpEndpoint", "")
        workload = next(d for d in docs if d["kind"] in {"StatefulSet", "Deployment"})
        env = {e["name"]: e.get("value") for e in workload["spec"]["template"]["spec"]["containers"][0]["env"]}
        policy = next((d for d in docs if d["kind"] == "NetworkPolicy"), None)
        if not endpoint:
            if any(name.startswith("OTEL_") for name in env):
                fail(f"{label}: OTEL_* set with tracing off: {env}")
            if policy and policy["spec"]["egress"] != []:
                fail(f"{label}: egress allowed with tracing off: {policy['spec']['egress']}")
            continue
        expected = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)",
            "OTEL_SERVICE_NAME": values["tracing"].get("serviceName"),
        }
        for name, value in expected.items():
            if env.get(name) != value:
                fail(f"{label}: {name} is {env.get(name)!r}, expected {value!r}")
        if policy is None:
            fail(f"{label}: the values enable a NetworkPolicy, none rendered")
        ports = [p for rule in policy["spec"]["egress"] for p in rule["ports"]]
        port = urllib.parse.urlparse(endpoint).port or 4318
        if {"port": port, "protocol": "TCP"} not in ports or {"port": 53, "protocol": "UDP"} not in ports:
            fail(f"{label}: egress does not reach the collector's port {port} and DNS: {ports}")
    ok("tracing: OTEL_* env and egress to the collector only when an endpoint is set")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if body:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def autoscaling_queries(namespace: str) -> dict[str, str]:
    """The PromQL each request-rate autoscaler runs, as rendered for `namespace`: KEDA's
    trigger query, and prometheus-adapter's rule expanded the way the adapter expands it for
    the HPA's metric selector (the namespace and `job`)."""
    keda = render(yaml.safe_load((CHART / "ci" / "autoscaling-keda.yaml").read_text()), namespace=namespace)
    scaled = [d for d in keda if d["kind"] == "ScaledObject"]
    if len(scaled) != 1:
        fail(f"autoscaling-keda.yaml renders {len(scaled)} ScaledObjects")
    queries = {"KEDA trigger": scaled[0]["spec"]["triggers"][0]["metadata"]["query"]}
    adapter = render(yaml.safe_load((CHART / "ci" / "autoscaling-adapter.yaml").read_text()), namespace=namespace)
    hpa = next(d for d in adapter if d["kind"] == "HorizontalPodAutoscaler")
    config = next(d for d in adapter if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-prometheus-adapter"))
    rule = yaml.safe_load(config["data"]["config.yaml"])["externalRules"][0]
    metric = hpa["spec"]["metrics"][0]["external"]["metric"]
    if metric["name"] != rule["name"]["as"]:
        fail(f"the HPA asks for {metric['name']}, the adapter serves {rule['name']['as']}")
    matchers = [f'namespace="{namespace}"'] + [f'{k}="{v}"' for k, v in metric["selector"]["matchLabels"].items()]
    series = rule["seriesQuery"].split("{")[0]
    queries["prometheus-adapter series"] = rule["seriesQuery"]
    queries["prometheus-adapter metric"] = (
        rule["metricsQuery"].replace("<<.Series>>", series).replace("<<.LabelMatchers>>", ",".join(matchers))
    )
    return queries


def check_autoscaling_queries(prometheus_url: str) -> None:
    """Each autoscaler's PromQL, run by promtool against the live Prometheus: a request rate
    above zero (the live host answered requests), or the series the adapter discovers."""
    for label, query in autoscaling_queries("live").items():
        deadline = time.time() + 30
        while True:
            if label.endswith("series"):
                out = promtool("query", "series", prometheus_url, f"--match={query}")
                found = "heart_http_requests_total" in out
            else:
                out = promtool("query", "instant", prometheus_url, query)
                match = re.search(r"=> ([0-9.e+-]+) @", out)
                found = bool(match) and float(match.group(1)) > 0
            if found:
                break
            if time.time() > deadline:
                fail(f"live: {label} `{query}` found nothing: {out!r}")
            time.sleep(0.5)
        ok(f"live: promtool runs the {label} query against the scrape: {out.strip().splitlines()[0][:100]}")


def check_live() -> None:
    """A real heart-host scraped by a real Prometheus (1 s) with the shipped rules."""
    host_bin = os.environ.get("HEART_HOST_BIN")
    if not host_bin or not Path(host_bin).is_file():
        fail("HEART_HOST_BIN must name a built heart-host binary (cargo xtask test sets it)")
    env = dict(os.environ, POD_NAME="heart-live-0", POD_NAMESPACE="live", RUST_LOG="warn")
    host = subprocess.Popen(
        [host_bin, "up", "--listen", "127.0.0.1:0", "--no-cache", "--from", str(ROOT / "spin.toml")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    prometheus = None
    tmp = tempfile.mkdtemp(prefix="heart-prometheus-")
    try:
        line = host.stdout.readline()
        match = re.search(r"listening on http://([0-9.:]+)/", line)
        if not match:
            fail(f"heart-host did not start: {line!r}")
        target = match.group(1)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{
                "job_name": "heart-display",
                "honor_labels": True,
                "static_configs": [{"targets": [target]}],
            }],
        }
        Path(tmp, "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://{target}"
        for i in range(20):
            status, _ = http(f"{base}/api/heart?format=svg&t={i}")
            if status != 200:
                fail(f"heart-host answered {status}")
        for client in range(5):
            for seq in range(3):
                body = json.dumps({"client": f"live-{client}", "seq": seq, "bpm": 72}).encode()
                status, text = http(f"{base}/api/beat", body)
                if status != 200:
                    fail(f"POST /api/beat answered {status}: {text!r}")
        api = f"http://127.0.0.1:{port}/api/v1"

        def query(q: str) -> list[dict]:
            status, body = http(f"{api}/query?query={urllib.parse.quote(q)}")
            return json.loads(body)["data"]["result"] if status == 200 else []

        deadline = time.time() + 90
        beats: list[dict] = []
        while time.time() < deadline:
            beats = query('heart_display_beats_total{pod_name="heart-live-0",namespace="live"}')
            if beats and float(beats[0]["value"][1]) >= 20 and query("heart_rate_total > 0"):
                break
            time.sleep(0.5)
        else:
            fail(f"Prometheus did not scrape the beat series with pod_name/namespace: {beats}")
        while time.time() < deadline:
            status, body = http(f"{api}/rules")
            groups = json.loads(body)["data"]["groups"] if status == 200 else []
            rules = [r for g in groups for r in g["rules"]]
            evaluated = [r for r in rules if not r.get("lastEvaluation", "").startswith("0001")]
            if rules and len(evaluated) == len(rules):
                unhealthy = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
                if unhealthy:
                    fail(f"unhealthy rules in Prometheus: {unhealthy}")
                ok(f"live: Prometheus scraped heart_display_beats_total{{pod_name=\"heart-live-0\",namespace=\"live\"}} = {beats[0]['value'][1]} and evaluates all {len(rules)} shipped rules healthy")
                check_autoscaling_queries(f"http://127.0.0.1:{port}")
                return
            time.sleep(0.5)
        fail("Prometheus did not evaluate every rule in time")
    finally:
        if prometheus:
            stop(prometheus)
        stop(host)
        shutil.rmtree(tmp, ignore_errors=True)


def render_node(out: Path) -> None:
    """The pod the node test runs (shim/tests/all/node.rs): the chart with default values, as
    rendered above, and the RuntimeClass it makes when asked (what an operator installs once)."""
    docs = render({})
    classes = [d for d in render({"runtime": {"createRuntimeClass": True}}) if d["kind"] == "RuntimeClass"]
    # The node installer, as shim/tests/all/node_installer.rs runs it: its restart command
    # leaves a mark in the (temporary) node root instead of restarting this machine's containerd.
    installer_values = {
        "runtime": {"createRuntimeClass": True},
        "nodeInstaller": {"enabled": True, "restartCommand": "echo restarted >> /restarted.log"},
    }
    installer_kinds = {"DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "RuntimeClass"}
    installer = [d for d in render(installer_values) if d["kind"] in installer_kinds]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"namespace": "heart", "documents": docs + classes, "installer": installer}, indent=1))
    print(f"wrote {len(docs) + len(classes)} objects and {len(installer)} installer objects to {out}")


def main() -> None:
    if "--write-k8s" in sys.argv:
        write_k8s()
        return
    if "--render-node" in sys.argv:
        render_node(Path(sys.argv[sys.argv.index("--render-node") + 1]))
        return
    check_lint()
    rendered = renders()
    for label, docs in rendered.items():
        check_core_objects(label, docs)
        check_crds(label, docs)
        check_standard_labels(label, docs, "Helm")
        if any(d["kind"] == "PrometheusRule" for d in docs):
            check_rules(label, docs)
    check_workloads(rendered)
    check_tracing(rendered)
    check_node_installer(rendered)
    check_documented_install()
    check_dashboard()
    check_schema()
    check_kustomize()
    check_live()
    print("deploy validation: all checks passed")


if __name__ == "__main__":
    main()

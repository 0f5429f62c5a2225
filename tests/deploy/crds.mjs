// Validates prometheus-operator objects (ServiceMonitor, PrometheusRule) and KEDA's
// ScaledObject against their CRD schemas with kubernetes-models. Input: a JSON file holding an array of objects. Prints one
// line per object; exits 1 on the first invalid one. Also proves the check can fail: a copy of
// each object with a wrong field type must be rejected.
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";

const models = { ServiceMonitor, PrometheusRule, ScaledObject };
/** The list field each kind must have, broken on purpose to prove the check can fail. */
const lists = { ServiceMonitor: "endpoints", PrometheusRule: "groups", ScaledObject: "triggers" };
const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = false;
for (const object of objects) {
  const Model = models[object.kind];
  if (!Model) {
    console.error(`no model for kind ${object.kind}`);
    process.exit(1);
  }
  const name = `${object.kind}/${object.metadata?.name}`;
  try {
    new Model(object).validate();
    console.log(`valid: ${name}`);
  } catch (e) {
    console.error(`INVALID: ${name}: ${e.message}`);
    failed = true;
  }
  const broken = structuredClone(object);
  broken.spec = { ...broken.spec, [lists[object.kind]]: "not-a-list" };
  try {
    new Model(broken).validate();
    console.error(`the ${object.kind} schema accepted a broken object: the check cannot fail`);
    failed = true;
  } catch {
    // expected
  }
}
process.exit(failed ? 1 : 0);

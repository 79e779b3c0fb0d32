#!/usr/bin/env python3
"""Compares, structurally, the objects `kubectl kustomize manifests/default` makes with the
ones `helm template` makes: RBAC rules and bindings, the ServiceAccount, the CRD's spec, the
Deployment's security settings, probes, resources and arguments (and the Namespace when the
chart renders one). Names must match (release name "saguard"). Prints every difference.

Usage: compare.py KUSTOMIZE.yaml HELM.yaml [--namespace]
Exit:  0 the same; 1 differences (listed).
"""
import sys
import yaml


def load(path):
    with open(path) as f:
        return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(f) if d}


def canon(value):
    """Order-insensitive form: lists sorted (rules, verbs, resources), maps kept."""
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((canon(v) for v in value), key=lambda v: yaml.safe_dump(v, sort_keys=True))
    return value


def container(deploy):
    return deploy["spec"]["template"]["spec"]["containers"][0]


def views(kind, obj):
    """What must be equal for each kind, as (aspect, value) pairs."""
    if kind in ("ClusterRole", "Role"):
        yield "rules", canon(obj.get("rules", []))
        yield "aggregation labels", {k: v for k, v in obj["metadata"].get("labels", {}).items()
                                     if k.startswith("rbac.authorization.k8s.io/")}
    elif kind in ("ClusterRoleBinding", "RoleBinding"):
        yield "roleRef", obj["roleRef"]
        yield "subjects", canon(obj["subjects"])
    elif kind == "ServiceAccount":
        yield "automountServiceAccountToken", obj.get("automountServiceAccountToken")
    elif kind == "CustomResourceDefinition":
        yield "spec", obj["spec"]
    elif kind == "Namespace":
        yield "pod security", {k: v for k, v in obj["metadata"].get("labels", {}).items()
                               if k.startswith("pod-security.kubernetes.io/")}
    elif kind == "Deployment":
        pod = obj["spec"]["template"]["spec"]
        c = container(obj)
        yield "replicas", obj["spec"].get("replicas")
        yield "serviceAccountName", pod.get("serviceAccountName")
        yield "pod securityContext", pod.get("securityContext")
        yield "automountServiceAccountToken (pod)", pod.get("automountServiceAccountToken")
        yield "hostNetwork/hostPID/hostIPC", [pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")]
        yield "terminationGracePeriodSeconds", pod.get("terminationGracePeriodSeconds")
        yield "container securityContext", c.get("securityContext")
        yield "probes", [c.get("livenessProbe"), c.get("readinessProbe")]
        yield "resources", c.get("resources")
        yield "ports", canon(c.get("ports"))
        yield "env", c.get("env")
        yield "image", [c.get("image"), c.get("imagePullPolicy")]
    if kind in ("Role", "RoleBinding", "ServiceAccount", "Deployment"):
        yield "namespace", obj["metadata"].get("namespace")


def main():
    kustomize, helm = load(sys.argv[1]), load(sys.argv[2])
    want_namespace = "--namespace" in sys.argv[3:]
    diffs = []
    for key, obj in sorted(kustomize.items()):
        if key[0] == "Namespace" and not want_namespace:
            continue
        other = helm.get(key)
        if other is None:
            diffs.append(f"{key[0]}/{key[1]}: in manifests/default, not in the chart")
            continue
        mine, theirs = dict(views(key[0], obj)), dict(views(key[0], other))
        for aspect, value in mine.items():
            if theirs.get(aspect) != value:
                diffs.append(f"{key[0]}/{key[1]} {aspect}:\n  kustomize: {value}\n  helm:      {theirs.get(aspect)}")
        if key[0] == "Deployment":
            # Every argument of manifests/default is in the chart's; the chart's extra ones
            # only spell out saguard's defaults (checked by name here, by value in README).
            missing = set(container(obj)["args"]) - set(container(other)["args"])
            if missing:
                diffs.append(f"Deployment/{key[1]} args missing in the chart: {sorted(missing)}")
    # The chart grants nothing that manifests/default does not: no extra RBAC objects.
    for key in helm:
        if key[0] in ("ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding") and key not in kustomize:
            diffs.append(f"{key[0]}/{key[1]}: in the chart, not in manifests/default")
    for d in diffs:
        print("DIFF:", d)
    compared = sum(1 for k in kustomize if want_namespace or k[0] != "Namespace")
    print(f"compare.py: {compared} objects of manifests/default compared, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fails when a metric that the alert rules or the dashboard name is not exposed by saguard.

Usage: metric_names.py RULES.yaml DASHBOARD.json METRICS.txt
  METRICS.txt: a scrape of a running saguard's /metrics (text format).
A name counts as exposed when it is a sample name, or a family of the scrape (# TYPE) with
the histogram suffixes _bucket/_sum/_count (a histogram with no label set yet has no sample).
Only saguard's own names are checked (prefixes below); `up` is Prometheus's.
"""
import json
import re
import sys
import yaml

PREFIXES = ("saguard_", "controller_runtime_", "workqueue_", "rest_client_", "leader_election_")
NAME = re.compile(r"\b(?:%s)[a-zA-Z0-9_]*" % "|".join(PREFIXES))


def rule_exprs(path):
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule.get("record"), rule["expr"]


def dashboard_exprs(node):
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            yield node.get("title", "target"), node["expr"]
        for v in node.values():
            yield from dashboard_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_exprs(v)


def exposed(path):
    names = set()
    for line in open(path):
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split()[:4]
            names.add(family)
            if kind in ("histogram", "summary"):
                names.update(family + s for s in ("_bucket", "_sum", "_count"))
        elif line.strip() and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def main():
    rules, dashboard, scrape = sys.argv[1:4]
    have = exposed(scrape)
    used = {}
    for where, expr in list(rule_exprs(rules)) + list(dashboard_exprs(json.load(open(dashboard)))):
        for name in NAME.findall(expr):
            used.setdefault(name, set()).add(where)
    if not used:
        print("FAIL: no saguard metric found in the rules or the dashboard")
        return 1
    missing = {n: w for n, w in used.items() if n not in have}
    for name, where in sorted(missing.items()):
        print(f"MISSING: {name} (used by {', '.join(sorted(where))})")
    print(f"metric_names.py: {len(used)} metric names used by alerts and dashboard, "
          f"{len(have)} names exposed, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

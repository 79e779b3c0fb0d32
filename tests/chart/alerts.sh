#!/usr/bin/env bash
# promtool check rules and promtool test rules (tests/chart/alerts_test.yaml: one test per
# alert, each with a case that must not fire) over charts/saguard/files/prometheus/saguard-alerts.yaml;
# every alert has a test and a runbook paragraph in README.md; the dashboard is valid JSON and
# each of its queries parses (promtool check rules over them as recording rules).
# Exit 77 (skipped) when promtool cannot be built.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tools promtool
rules="$chart/files/prometheus/saguard-alerts.yaml"
"$PROMTOOL" check rules "$rules"
(cd "$root/tests/chart" && "$PROMTOOL" test rules alerts_test.yaml)
python3 - "$rules" "$root/tests/chart/alerts_test.yaml" "$root/README.md" "$chart/files/grafana/saguard-dashboard.json" <<'PY'
import json, sys, yaml
rules, tests, readme, dashboard = sys.argv[1:5]
alerts = [r["alert"] for g in yaml.safe_load(open(rules))["groups"] for r in g["rules"] if "alert" in r]
tested = {t["alertname"] for g in yaml.safe_load(open(tests))["tests"] for t in g.get("alert_rule_test", [])}
text = open(readme).read()
bad = [f"{a}: no promtool test" for a in alerts if a not in tested]
bad += [f"{a}: no runbook paragraph (### {a}) in README.md" for a in alerts if f"### {a}\n" not in text]
json.load(open(dashboard))
for b in bad: print("FAIL:", b)
print(f"{len(alerts)} alerts, each tested and with a runbook" if not bad else "")
sys.exit(1 if bad else 0)
PY
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 - "$chart/files/grafana/saguard-dashboard.json" > "$work/dashboard-rules.yaml" <<'PY'
import json, sys, yaml
def exprs(node):
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str): yield node["expr"]
        for v in node.values(): yield from exprs(v)
    elif isinstance(node, list):
        for v in node: yield from exprs(v)
# $job is the dashboard's variable; its "All" value is .*saguard.*
rules = [{"record": f"dashboard_query_{i}", "expr": e.replace("$job", ".*saguard.*")}
         for i, e in enumerate(exprs(json.load(open(sys.argv[1]))))]
print(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
PY
"$PROMTOOL" check rules "$work/dashboard-rules.yaml"
echo "PASSED: alert rules and dashboard"

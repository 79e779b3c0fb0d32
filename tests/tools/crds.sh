#!/usr/bin/env bash
# Prints the folder that holds prometheus-operator's CRDs (ServiceMonitor, PrometheusRule, ...)
# of a pinned release, taken from its Go module (example/prometheus-operator-crd/) through the
# Go module proxy and kept in Go's module cache: the chart test installs them so that the API
# server validates the chart's ServiceMonitor and PrometheusRule against the real schemas.
# Exit 1 with a message when Go or the module is not available.
set -euo pipefail
PROMETHEUS_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator
PROMETHEUS_OPERATOR_VERSION=v0.85.0
command -v go >/dev/null || { echo "tools/crds.sh: Go is needed to fetch $PROMETHEUS_OPERATOR_MODULE" >&2; exit 1; }
json=$(cd / && GOFLAGS=-mod=mod go mod download -json "$PROMETHEUS_OPERATOR_MODULE@$PROMETHEUS_OPERATOR_VERSION") \
  || { echo "tools/crds.sh: go mod download $PROMETHEUS_OPERATOR_MODULE@$PROMETHEUS_OPERATOR_VERSION failed: $json" >&2; exit 1; }
dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")/example/prometheus-operator-crd
[[ -f $dir/monitoring.coreos.com_servicemonitors.yaml && -f $dir/monitoring.coreos.com_prometheusrules.yaml ]] \
  || { echo "tools/crds.sh: no CRDs in $dir" >&2; exit 1; }
echo "$dir"

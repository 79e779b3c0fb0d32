# Pinned versions of the tools the chart and monitoring tests use (tests/tools/build.sh).
# Both are built with `go install module@version` from the Go module proxy; neither go.mod
# has replace directives, so no wrapper module is needed (unlike tests/controlplane/).
HELM_MODULE=helm.sh/helm/v4
HELM_VERSION=v4.3.2
PROMETHEUS_MODULE=github.com/prometheus/prometheus
PROMETHEUS_VERSION=v0.316.0

# Shared by the chart tests (sourced): finds or builds the tools, or skips the test (exit 77,
# which ctest reports as skipped) with a message that says why.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
chart="$root/charts/saguard"
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
# tools NAME...: sets HELM / PROMTOOL / KUBECTL / MONITORING_CRDS (prometheus-operator's CRD
# folder) for the names given.
tools() {
  local dir
  for t in "$@"; do
    case $t in
      helm|promtool)
        dir=$(bash "$root/tests/tools/build.sh" "$t" 2>/tmp/saguard-tools-build.$$) \
          || skip "$t could not be built from Go modules: $(tail -3 /tmp/saguard-tools-build.$$)"
        rm -f /tmp/saguard-tools-build.$$
        [[ $t == helm ]] && HELM="$dir/helm" || PROMTOOL="$dir/promtool" ;;
      monitoring-crds)
        MONITORING_CRDS=$(bash "$root/tests/tools/crds.sh" 2>/tmp/saguard-tools-crds.$$) \
          || skip "prometheus-operator's CRDs could not be fetched: $(tail -3 /tmp/saguard-tools-crds.$$)"
        rm -f /tmp/saguard-tools-crds.$$ ;;
      kubectl)
        dir=$(bash "$root/tests/controlplane/build.sh" 2>/dev/null) \
          || skip "kubectl (tests/controlplane/build.sh) could not be built"
        KUBECTL="$dir/kubectl" ;;
    esac
  done
  command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null \
    || skip "python3 with PyYAML is missing (apt-get install python3-yaml)"
}

# The pinned control-plane release. Sourced by build.sh and up.sh.
# Changing a version: run gen-modules.sh, which rewrites k8s/ and etcd/ to match.
KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
# kwok simulates nodes and the pods on them (SAGUARD_CP_NODES): go install, no wrapper module needed.
KWOK_VERSION=v0.8.0

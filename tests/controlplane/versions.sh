# The pinned control-plane release. Sourced by build.sh and up.sh.
# Changing a version: run gen-modules.sh, which rewrites k8s/ and etcd/ to match.
KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16

# Pinned versions of the local control plane, sourced by the hack/ scripts and read by
# the test fixture (tests/cluster) so that both agree on where the binaries live.
K8S_VERSION=${K8S_VERSION:-v1.33.13}
ETCD_VERSION=${ETCD_VERSION:-v3.5.21}
KWOK_VERSION=${KWOK_VERSION:-v0.7.0}
HELM_VERSION=${HELM_VERSION:-v3.18.4}
KUBETUNE_CACHE=${KUBETUNE_CACHE:-$HOME/.cache/kubetune}
KUBETUNE_BIN=${KUBETUNE_BIN:-$KUBETUNE_CACHE/$K8S_VERSION/bin}
# Kueue (sigs.k8s.io/kueue) runs beside the control plane for the queueing tests; it has
# its own directory: bin/kueue, crd/ and webhook/ (manifests copied from its module).
KUEUE_VERSION=${KUEUE_VERSION:-v0.17.0}
KUEUE_DIR=${KUEUE_DIR:-$KUBETUNE_CACHE/kueue-$KUEUE_VERSION}

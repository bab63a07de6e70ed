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
# JobSet (sigs.k8s.io/jobset) runs beside the control plane for multi-node trials:
# v0.11.1 is the newest the module proxy serves that JobSet's own e2e runs on Kubernetes
# 1.33 (its README); v0.12 moves to k8s.io v0.36. Its directory: bin/jobset, crd/, webhook/.
JOBSET_VERSION=${JOBSET_VERSION:-v0.11.1}
JOBSET_DIR=${JOBSET_DIR:-$KUBETUNE_CACHE/jobset-$JOBSET_VERSION}

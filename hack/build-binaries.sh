#!/usr/bin/env bash
# Builds the pinned Kubernetes binaries the tests and the dev cluster run, from Go source
# through the Go module proxy (no container registry or release download is reachable).
# Everything lands in a cache outside the repository, so a second run is a no-op:
#   $KUBETUNE_CACHE/<version>/bin/{etcd,kube-apiserver,kube-controller-manager,
#                                  kube-scheduler,kubelet,kubectl,kwok,helm}
# Usage: hack/build-binaries.sh            (prints the bin directory on its last line)
set -euo pipefail
source "$(dirname "$0")/go-build.sh"

BIN="$KUBETUNE_BIN"
mkdir -p "$BIN"

# A wrapper module that pins every staging module k8s.io/kubernetes requires at v0.0.0
# to its published v0.Y.Z twin: go.mod replace directives are ignored for dependencies.
k8s_wrapper() {
  local dir="$WORK/k8s-$K8S_VERSION" gomod staging
  [ -f "$dir/go.sum" ] && { echo "$dir"; return; }
  mkdir -p "$dir"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  staging=$(grep -E '^\s+k8s\.io/\S+ v0\.0\.0$' "$gomod" | awk '{print $1}')
  {
    echo "module local/k8sbuild"
    echo "go 1.24.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    for m in $staging; do echo "  $m => $m v0.${K8S_VERSION#v1.}"; done
    echo ")"
  } > "$dir/go.mod"
  (cd "$dir" && go mod download k8s.io/kubernetes >&2 && go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" >&2)
  echo "$dir"
}

build_k8s() {
  local dir minor ld
  dir=$(k8s_wrapper)
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    [ -x "$BIN/$cmd" ] && continue
    log "building $cmd $K8S_VERSION"
    (cd "$dir" && go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$BIN/$cmd.tmp" "$BIN/$cmd"
  done
}

build_module "$BIN" etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
build_module "$BIN" kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
build_module "$BIN" helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
build_k8s
log "done: $(ls "$BIN" | tr '\n' ' ')"
echo "$BIN"

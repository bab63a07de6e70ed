#!/usr/bin/env bash
# Builds the pinned Kueue manager from its Go module through the module proxy (the route
# hack/build-binaries.sh takes for the control plane), and copies the manifests the tests
# apply from the same module, so binary and CRDs always match. A second run is a no-op:
#   $KUEUE_DIR/bin/kueue   $KUEUE_DIR/crd/{bases,patches,kustomization.yaml}
#   $KUEUE_DIR/webhook/manifests.yaml
# Usage: hack/build-kueue.sh            (prints the Kueue directory on its last line)
set -euo pipefail
source "$(dirname "$0")/go-build.sh"

KUEUE_MODULE=sigs.k8s.io/kueue

# Kueue's go.mod has no replace directives (checked for v0.17.0), so a plain wrapper
# module that requires it resolves the same dependency versions its own build uses.
build_module "$KUEUE_DIR/bin" kueue "$KUEUE_MODULE" "$KUEUE_VERSION" "$KUEUE_MODULE/cmd/kueue" \
  "-X $KUEUE_MODULE/pkg/version.GitVersion=$KUEUE_VERSION"

# The CRD directory keeps Kueue's kustomization.yaml and patches/: they say which CRDs
# convert through the webhook, and the test fixture reads them rather than a copy of that list.
copy_manifests() {
  [ -f "$KUEUE_DIR/webhook/manifests.yaml" ] && return
  local src
  src=$(go mod download -json "$KUEUE_MODULE@$KUEUE_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$KUEUE_DIR/webhook"
  rm -rf "$KUEUE_DIR/crd"
  cp -r "$src/config/components/crd" "$KUEUE_DIR/crd"
  chmod -R u+w "$KUEUE_DIR/crd"  # the module cache is read-only, the copy need not be
  # Last, as it marks the copy complete.
  cp "$src/config/components/webhook/manifests.yaml" "$KUEUE_DIR/webhook/manifests.yaml.tmp"
  mv "$KUEUE_DIR/webhook/manifests.yaml.tmp" "$KUEUE_DIR/webhook/manifests.yaml"
}

copy_manifests
log "done: $KUEUE_DIR"
echo "$KUEUE_DIR"

#!/usr/bin/env bash
# Builds the pinned JobSet controller manager from its Go module through the module proxy
# (the route hack/build-kueue.sh takes), and copies the manifests the tests apply from the
# same module, so binary and CRDs always match. A second run is a no-op:
#   $JOBSET_DIR/bin/jobset   $JOBSET_DIR/crd/bases/*.yaml   $JOBSET_DIR/webhook/ (kustomization)
# Usage: hack/build-jobset.sh           (prints the JobSet directory on its last line)
set -euo pipefail
source "$(dirname "$0")/go-build.sh"

JOBSET_MODULE=sigs.k8s.io/jobset

# JobSet's go.mod has no replace directives (checked for v0.11.1); its manager is the
# module's root package.
build_module "$JOBSET_DIR/bin" jobset "$JOBSET_MODULE" "$JOBSET_VERSION" "$JOBSET_MODULE" \
  "-X $JOBSET_MODULE/pkg/version.GitVersion=$JOBSET_VERSION"

# The webhook directory is JobSet's kustomization as is: its patches scope the Pod webhooks
# to JobSet's pods, and the test fixture renders it with `kubectl kustomize`. The CRD's
# conversion patch is not copied: JobSet serves one version, so nothing converts.
copy_manifests() {
  [ -f "$JOBSET_DIR/webhook/kustomization.yaml" ] && return
  local src
  src=$(go mod download -json "$JOBSET_MODULE@$JOBSET_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$JOBSET_DIR/crd" "$JOBSET_DIR/webhook" "$JOBSET_DIR/webhook.tmp"
  mkdir -p "$JOBSET_DIR/crd"
  cp -r "$src/config/components/crd/bases" "$JOBSET_DIR/crd/bases"
  cp -r "$src/config/components/webhook" "$JOBSET_DIR/webhook.tmp"
  chmod -R u+w "$JOBSET_DIR/crd" "$JOBSET_DIR/webhook.tmp"  # the module cache is read-only
  # Last, as it marks the copy complete.
  mv "$JOBSET_DIR/webhook.tmp" "$JOBSET_DIR/webhook"
}

copy_manifests
log "done: $JOBSET_DIR"
echo "$JOBSET_DIR"

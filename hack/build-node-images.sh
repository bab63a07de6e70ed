#!/usr/bin/env bash
# Builds (or finds cached) the e2e tier's images: the pause sandbox image and the trial
# image, as OCI archives under ~/.cache/kubetune/images. Needs hack/node-deps.sh first,
# and the network on a cold cache (debootstrap and PyPI); warm runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m tests.cluster.images

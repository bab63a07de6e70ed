#!/usr/bin/env bash
# Builds (or finds cached) the e2e tier's images: the pause sandbox image, the trial
# image and the operator image, as OCI archives under ~/.cache/kubetune/images. Needs hack/node-deps.sh first,
# and the network on a cold cache (debootstrap and PyPI); warm runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
"$python" -m tests.cluster.images
"$python" -m tests.cluster.operator_image

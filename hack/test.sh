#!/usr/bin/env bash
# The project's test command (README): installs the Python package with its dev tools
# and the dashboard extra (Selenium drives its browser tests) into .venv, builds or
# reuses the cached control-plane binaries, then runs the static checks (ruff, mypy
# --strict, import-linter) and the whole pytest suite.
# Extra arguments go to pytest, e.g. `hack/test.sh tests/unit -k asha`.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[dev,dashboard]'

if [ "${KUBETUNE_SKIP_BINARIES:-0}" != 1 ]; then
  hack/build-binaries.sh >/dev/null
fi

echo "== ruff";          ruff check operator tests benchmarks
echo "== ruff format";   ruff format --check operator tests benchmarks
echo "== mypy --strict"; mypy
echo "== import-linter"; lint-imports
echo "== pytest";        python -m pytest "$@"

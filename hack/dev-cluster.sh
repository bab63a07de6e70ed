#!/usr/bin/env bash
# A local control plane for a person: the same one the integration tests use (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok with a fake 8-GPU node),
# kept running in the background until `down`.
#   hack/dev-cluster.sh up     start it (no-op if running); prints the export lines
#   hack/dev-cluster.sh env    print `export KUBECONFIG=... PATH=...` for eval
#   hack/dev-cluster.sh down   stop every component and remove the state
# State, kubeconfig and component logs: $KUBETUNE_CACHE/dev-cluster/
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/versions.sh

STATE_DIR="$KUBETUNE_CACHE/dev-cluster"
STATE_FILE="$STATE_DIR/state.json"
LAUNCHER_LOG="$STATE_DIR/launcher.log"
PYTHON=${PYTHON:-.venv/bin/python}

state() { "$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$STATE_FILE" "$1"; }
running() { [ -f "$STATE_FILE" ] && kill -0 "$(state pid)" 2>/dev/null; }

print_env() {
  echo "export KUBECONFIG=$(state kubeconfig)"
  echo "export PATH=$(state bin_dir):\$PATH"
}

up() {
  if running; then print_env; return; fi
  mkdir -p "$STATE_DIR"
  rm -f "$STATE_FILE"
  # setsid: the launcher outlives this shell; it stops its components on SIGTERM.
  setsid "$PYTHON" -m tests.cluster up --state-dir "$STATE_DIR" >"$LAUNCHER_LOG" 2>&1 </dev/null &
  local launcher=$!
  until [ -f "$STATE_FILE" ]; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      echo "dev cluster failed to start; $LAUNCHER_LOG says:" >&2
      tail -n 40 "$LAUNCHER_LOG" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "# dev cluster up in $(state startup_seconds)s; logs in $(state log_dir)" >&2
  print_env
}

down() {
  running || { echo "dev cluster is not running" >&2; rm -f "$STATE_FILE"; return; }
  local pid
  pid=$(state pid)
  kill -TERM "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || { echo "dev cluster stopped" >&2; return; }; sleep 0.5; done
  echo "launcher $pid still running after 30s; see $LAUNCHER_LOG" >&2
  exit 1
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) running && print_env || { echo "dev cluster is not running" >&2; exit 1; } ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac

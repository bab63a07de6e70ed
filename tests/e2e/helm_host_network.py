"""A Helm post-renderer that fits the chart's operator Deployment to the e2e node.

This cluster has no kube-proxy and no cluster DNS, so a pod can reach neither the API
server through the `kubernetes` Service nor the ingest through its Service name. So the
operator pod maps kubernetes.default.svc to the node's address, where the test relays
port 443 to the API server (tests/cluster/service_proxy.py), and it shares the host's
network so that its ingest listens on the node's bridge address, where trial pods reach
the host. Everything else (RBAC, service account, probes, security context) is the
chart's own.

Usage: helm install ... --post-renderer <python> --post-renderer-args <this file>
       --post-renderer-args <node IP> --post-renderer-args <ingest port>
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

API_SERVICE_NAMES = ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]


def host_network(deployment: dict[str, Any], node_ip: str, ingest_port: str) -> None:
    pod = deployment["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["hostAliases"] = [{"ip": node_ip, "hostnames": API_SERVICE_NAMES}]
    overrides = {
        # The Service's cluster IP leads nowhere here; its name leads to the relay.
        "KUBERNETES_SERVICE_HOST": "kubernetes.default.svc",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBETUNE_INGEST_HOST": node_ip,
        "KUBETUNE_INGEST_URL": f"http://{node_ip}:{ingest_port}",
    }
    for container in pod["containers"]:
        kept = [e for e in container.get("env", []) if e["name"] not in overrides]
        container["env"] = kept + [{"name": k, "value": v} for k, v in overrides.items()]


def main() -> None:
    node_ip, ingest_port = sys.argv[1], sys.argv[2]
    documents = [d for d in yaml.safe_load_all(sys.stdin) if d]
    for document in documents:
        if document.get("kind") == "Deployment":
            host_network(document, node_ip, ingest_port)
    yaml.safe_dump_all(documents, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()

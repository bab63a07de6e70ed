"""The admin kubeconfig shared by kubectl, the Python client, kcm, the scheduler and kwok."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cluster.pki import Pki

CONTEXT_NAME = "kubetune-local"


def write_admin_kubeconfig(path: Path, server_url: str, pki: Pki) -> Path:
    """Writes a kubeconfig that logs in as the system:masters admin by client certificate."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT_NAME,
                "cluster": {"server": server_url, "certificate-authority": str(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "kubetune-admin",
                "user": {
                    "client-certificate": str(pki.admin_cert),
                    "client-key": str(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {"name": CONTEXT_NAME, "context": {"cluster": CONTEXT_NAME, "user": "kubetune-admin"}}
        ],
        "current-context": CONTEXT_NAME,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path

"""What a test (or a person) needs to talk to a running control plane.

Both the built kubectl and the official Python client, pointed at the same admin
kubeconfig, so a test can use whichever says its point more plainly.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from kubernetes import client, config


class KubectlError(RuntimeError):
    """kubectl exited non-zero; the message carries its stderr."""


@dataclass(frozen=True)
class ClusterClient:
    kubeconfig: Path
    bin_dir: Path

    def api_client(self) -> client.ApiClient:
        """A fresh ApiClient logged in as the system:masters admin."""
        api_client = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        return cast(client.ApiClient, api_client)

    def core_v1(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client())

    def batch_v1(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api_client())

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Runs the built kubectl against this cluster; raises with stderr when it fails."""
        argv = [str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args]
        result = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            raise KubectlError(f"kubectl {command} failed ({result.returncode}):\n{result.stderr}")
        return result

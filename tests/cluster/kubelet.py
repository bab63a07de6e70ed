"""The kubelet of the real node, and the bridge network its pods live on.

The node's IP is the bridge's own gateway address, which the fixture creates before the
kubelet starts: it is private to this machine, is never loopback (which the kubelet
rejects), and is the address pods use to reach services on the host (the operator's
metrics ingest). The kubelet listens there only, and trusts only our CA's certificates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.components import Layout

NODE_NAME = "kt-node"
BRIDGE = "cni0"
POD_SUBNET = "10.88.0.0/16"
NODE_IP = "10.88.0.1"  # the bridge's gateway address; pods reach the host here
BRIDGE_ADDRESS = f"{NODE_IP}/16"
KUBELET_HEALTHZ_PORT = 10248


def write_cni_conflist(conf_dir: Path, ipam_dir: Path) -> Path:
    """A bridge network without masquerading: pods talk to the host only, so no iptables
    rules are written (nothing to leak if a run is killed). IPAM state stays per run."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    ipam = {
        "type": "host-local",
        "ranges": [[{"subnet": POD_SUBNET, "gateway": NODE_IP}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": str(ipam_dir),
    }
    bridge = {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "ipam": ipam}
    conflist = {"cniVersion": "0.4.0", "name": "kubetune", "plugins": [bridge]}
    path = conf_dir / "10-kubetune.conflist"
    path.write_text(json.dumps(conflist, indent=1))
    return path


def kubelet_configuration(layout: Layout, runtime_endpoint: str) -> dict[str, Any]:
    state = layout.state("kubelet")
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "containerRuntimeEndpoint": runtime_endpoint,
        "cgroupDriver": "cgroupfs",  # no systemd on these machines
        "failSwapOn": False,
        "oomScoreAdj": 0,  # the default -999 needs CAP_SYS_RESOURCE
        "address": NODE_IP,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(layout.pki.ca_cert)},  # the API server's client cert
        },
        "authorization": {"mode": "AlwaysAllow"},
        # Shared CI disks run full; a test node must not evict its pods for that.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "imageGCHighThresholdPercent": 99,
        "imageGCLowThresholdPercent": 98,
        "resolvConf": "/etc/resolv.conf",
        "podLogsDir": str(state / "pod-logs"),  # not the machine-wide /var/log/pods
        "clusterDomain": "cluster.local",
        "staticPodPath": "",
        "serializeImagePulls": False,
        "nodeStatusReportFrequency": "10s",
    }


def kubelet_argv(layout: Layout, runtime_endpoint: str) -> list[str | Path]:
    state = layout.state("kubelet")
    config = state / "kubelet.yaml"
    config.write_text(yaml.safe_dump(kubelet_configuration(layout, runtime_endpoint)))
    return [
        layout.bin_dir / "kubelet",
        f"--config={config}",
        f"--kubeconfig={layout.kubeconfig}",
        f"--hostname-override={NODE_NAME}",
        f"--node-ip={NODE_IP}",
        f"--root-dir={state / 'root'}",
        f"--cert-dir={state / 'pki'}",
        "--v=1",
    ]

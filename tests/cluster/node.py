"""A real node beside the control plane: containerd, runc, a bridge CNI and the kubelet.

Pods on it run real containers from locally built images (tests/cluster/images.py). Only
one real node can run on a machine (the kubelet's cgroups, ports and the bridge are
machine-wide), so a lock file guards it. Everything started is stopped by PID, and what
the kernel keeps beyond processes (mounts, the bridge) is removed too.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import time
from pathlib import Path
from typing import IO

from kubernetes import client

from tests.cluster import kubelet
from tests.cluster.components import Layout
from tests.cluster.containerd import Containerd
from tests.cluster.images import BuiltImage, node_cache_dir
from tests.cluster.mounts import unmount_everything_under
from tests.cluster.processes import Component
from tests.cluster.readiness import ControlPlaneError, wait_until

GPU_RESOURCE = "nvidia.com/gpu"
NODE_GPUS = 4
READY_TIMEOUT = 120.0
NODE_LOCK_TIMEOUT = 900.0


class RealNode:
    """Start with `start(core)` once the API server is ready; `stop()` is idempotent."""

    def __init__(self, layout: Layout, images: list[BuiltImage], log_dir: Path) -> None:
        self.layout, self.images, self.log_dir = layout, images, log_dir
        self.work_dir = layout.state("node")
        self.containerd = Containerd(
            node_cache_dir() / "containerd",
            self.work_dir / "containerd",
            self.work_dir / "cni",
            log_dir,
        )
        self.kubelet: Component | None = None
        self._lock: IO[str] | None = None

    def start(self, core: client.CoreV1Api) -> None:
        self._lock = _take_node_lock()
        _create_bridge()
        kubelet.write_cni_conflist(self.work_dir / "cni", self.work_dir / "ipam")
        runtime = self.containerd.start()
        wait_until(self.containerd.answers, "waiting for containerd", 60, [runtime], runtime)
        self.containerd.remove_all_containers()  # left by a run that was killed
        self._import_images()
        argv = kubelet.kubelet_argv(self.layout, self.containerd.endpoint)
        self.kubelet = Component("kubelet", argv, self.log_dir)
        wait_until(
            lambda: _node_ready(core),
            "waiting for the node to be Ready",
            READY_TIMEOUT,
            [runtime, self.kubelet],
            self.kubelet,
        )
        _advertise_gpus(core)

    def _import_images(self) -> None:
        """Imports an image only when its archive is not the one imported last time."""
        record = self.containerd.root / "kubetune-imports.json"
        imported = json.loads(record.read_text()) if record.exists() else {}
        present = self.containerd.image_names()
        for image in self.images:
            if imported.get(image.name) != image.archive.name or image.name not in present:
                self.containerd.import_archive(image.archive)
                imported[image.name] = image.archive.name
        record.write_text(json.dumps(imported, indent=1))

    def stop(self) -> None:
        if self.kubelet is not None:
            self.kubelet.stop()
            self.kubelet = None
        self.containerd.stop()
        unmount_everything_under(self.layout.work_dir)
        subprocess.run(["ip", "link", "delete", kubelet.BRIDGE], capture_output=True, check=False)
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None


def _take_node_lock() -> IO[str]:
    """Waits (bounded) for another session's real node to go: sessions take turns."""
    lock = (node_cache_dir() / "node.lock").open("w")
    deadline = time.monotonic() + NODE_LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                message = f"another real node held {lock.name} for {NODE_LOCK_TIMEOUT:.0f}s"
                raise ControlPlaneError(message) from None
            time.sleep(1)


def _create_bridge() -> None:
    """The bridge exists before the kubelet so the node IP is on it from the start."""
    subprocess.run(["ip", "link", "delete", kubelet.BRIDGE], capture_output=True, check=False)
    for command in (
        ["ip", "link", "add", kubelet.BRIDGE, "type", "bridge"],
        ["ip", "addr", "add", kubelet.BRIDGE_ADDRESS, "dev", kubelet.BRIDGE],
        ["ip", "link", "set", kubelet.BRIDGE, "up"],
    ):
        subprocess.run(command, capture_output=True, check=True)


def _node_ready(core: client.CoreV1Api) -> bool:
    nodes = core.list_node(field_selector=f"metadata.name={kubelet.NODE_NAME}").items
    conditions = (nodes[0].status.conditions or []) if nodes else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _advertise_gpus(core: client.CoreV1Api) -> None:
    """No device plugin runs, so the GPUs are an extended resource the node claims; the
    scheduler counts them exactly as it counts real ones."""
    path = "/status/capacity/" + GPU_RESOURCE.replace("/", "~1")
    patch = [{"op": "add", "path": path, "value": str(NODE_GPUS)}]
    core.patch_node_status(kubelet.NODE_NAME, patch)  # type: ignore[arg-type]

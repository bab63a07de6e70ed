"""Which GPUs this machine has, and which trial holds which, for CUDA_VISIBLE_DEVICES.

The local runner packs trials onto GPUs the way the scheduler packs pods onto a node: a
trial asking for `gpus: 2` starts only when two devices are free and sees only those two.
KUBETUNE_GPUS=N overrides detection (0 forces CPU; useful on shared machines and in tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess

GPUS_ENV = "KUBETUNE_GPUS"


def detect_gpus() -> list[int]:
    """Device indices from KUBETUNE_GPUS, else from `nvidia-smi -L`, else none."""
    override = os.environ.get(GPUS_ENV)
    if override is not None:
        if not override.strip().isdigit():
            raise ValueError(f"{GPUS_ENV} must be a number of GPUs, got {override!r}")
        return list(range(int(override)))
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):  # a broken driver means no usable GPU
        return []
    lines = [line for line in listing.stdout.splitlines() if line.startswith("GPU ")]
    return list(range(len(lines))) if listing.returncode == 0 else []


class GpuPool:
    """Free and taken device indices; a trial gets the lowest free ones."""

    def __init__(self, devices: list[int]) -> None:
        self.devices = list(devices)
        self.holders: dict[int, str] = {}

    def take(self, trial: str, count: int) -> list[int] | None:
        """`count` devices for `trial`, or None while too few are free."""
        free = [device for device in self.devices if device not in self.holders]
        if len(free) < count:
            return None
        chosen = free[:count]
        self.holders.update(dict.fromkeys(chosen, trial))
        return chosen

    def release(self, trial: str) -> None:
        self.holders = {d: holder for d, holder in self.holders.items() if holder != trial}

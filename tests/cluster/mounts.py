"""Unmounting what a stopped node leaves mounted.

The kubelet mounts volumes (projected tokens are tmpfs) and containerd mounts sandbox
/dev/shm and container root filesystems; killing the processes leaves these mounts, and a
mounted directory cannot be removed. Deepest first, lazily, so busy mounts go too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def mount_points_under(directory: Path) -> list[Path]:
    """Mount points at or below `directory`, deepest first (from /proc/self/mountinfo)."""
    root = directory.resolve()
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = Path(line.split()[4].encode().decode("unicode_escape"))
        if mount_point == root or root in mount_point.parents:
            found.append(mount_point)
    return sorted(set(found), key=lambda path: len(path.parts), reverse=True)


def unmount_everything_under(directory: Path) -> None:
    for mount_point in mount_points_under(directory):
        subprocess.run(["umount", "--lazy", str(mount_point)], capture_output=True, check=False)

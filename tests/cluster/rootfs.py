"""The trial image's base root filesystem: Debian bookworm, python3, numpy, scikit-learn.

debootstrap fetches Debian, and the host's pip downloads the wheels (the host is the one
that trusts the network's certificates), which the chroot then installs with no index.
numpy and scikit-learn are pinned to the versions the tests themselves run with. The
result is cached under a key of all these inputs, so it is built once per machine.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
DEBIAN_PACKAGES = ("python3", "python3-venv")
VENV = "/opt/venv"
TRIAL_USER_UID = "1000"  # as in trial-image/Dockerfile
# Copied by the image but of no use to a trainer; dropping them shrinks every import.
PRUNED = ("usr/share/doc", "usr/share/man", "usr/share/locale", "var/lib/apt/lists")


def base_requirements() -> list[str]:
    """The image's Python packages; setuptools and wheel let the top layer install the
    kubetune source offline (no build isolation, so no index is needed)."""
    pins = [f"{name}=={version(name)}" for name in ("numpy", "scikit-learn")]
    return [*pins, "setuptools>=69", "wheel"]


def base_key() -> str:
    recipe = [SUITE, MIRROR, *DEBIAN_PACKAGES, VENV, TRIAL_USER_UID, *PRUNED, *base_requirements()]
    return hashlib.sha256("\n".join(recipe).encode()).hexdigest()[:16]


def _run(argv: list[str | Path]) -> None:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv))} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )


def _download_wheels(wheels: Path) -> None:
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--python-version=3.11",
            "-d",
            wheels,
            *base_requirements(),
        ]
    )


def _install_into(rootfs: Path, wheels: Path) -> None:
    """Runs pip inside the chroot against a bind mount of the downloaded wheels."""
    mount_point = rootfs / "wheels"
    mount_point.mkdir()
    _run(["mount", "--bind", wheels, mount_point])
    try:
        chroot = ["chroot", rootfs, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        _run([*chroot, "python3", "-m", "venv", VENV])
        _run(
            [
                *chroot,
                f"{VENV}/bin/pip",
                "install",
                "--quiet",
                "--no-index",
                "--find-links=/wheels",
                *base_requirements(),
            ]
        )
        _run([*chroot, "useradd", "--uid", TRIAL_USER_UID, "--create-home", "trainer"])
    finally:
        _run(["umount", mount_point])
        mount_point.rmdir()


def build_base_rootfs(cache_dir: Path) -> Path:
    """The cached base root filesystem, built first if missing (about 2 minutes)."""
    rootfs = cache_dir / f"rootfs-{base_key()}"
    if rootfs.is_dir():
        return rootfs
    partial = cache_dir / f"{rootfs.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(DEBIAN_PACKAGES)}",
            SUITE,
            partial,
            MIRROR,
        ]
    )
    wheels = cache_dir / "wheels"
    _download_wheels(wheels)
    _install_into(partial, wheels)
    for path in PRUNED:
        shutil.rmtree(partial / path, ignore_errors=True)
    partial.rename(rootfs)
    return rootfs

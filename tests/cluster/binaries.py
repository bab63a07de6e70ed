"""Where the control-plane binaries live, and whether they are all there.

hack/versions.sh is the single source of truth for the pinned versions and the cache
directory; reading it through bash keeps the build script and the tests in agreement.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VERSIONS_SCRIPT = REPO_ROOT / "hack" / "versions.sh"
REQUIRED_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
)
BUILD_HINT = (
    "run hack/build-binaries.sh (builds them once into ~/.cache/kubetune; about 30 min cold)"
)


KUEUE_BUILD_HINT = "run hack/build-kueue.sh (builds it once into ~/.cache/kubetune)"
JOBSET_BUILD_HINT = "run hack/build-jobset.sh (builds it once into ~/.cache/kubetune)"


class MissingBinariesError(RuntimeError):
    """Raised when the cache lacks a binary that the control plane needs."""


@dataclass(frozen=True)
class PinnedVersions:
    """The versions hack/versions.sh pins, and the directory their binaries go to."""

    kubernetes: str
    etcd: str
    kwok: str
    bin_dir: Path
    kueue: str
    kueue_dir: Path  # hack/build-kueue.sh: bin/kueue, crd/, webhook/
    jobset: str
    jobset_dir: Path  # hack/build-jobset.sh: bin/jobset, crd/, webhook/


def pinned_versions() -> PinnedVersions:
    """Sources hack/versions.sh (honouring the same environment overrides it does)."""
    script = f'source "{VERSIONS_SCRIPT}"; echo "$K8S_VERSION $ETCD_VERSION $KWOK_VERSION"'
    script += '; echo "$KUBETUNE_BIN"; echo "$KUEUE_VERSION"; echo "$KUEUE_DIR"'
    script += '; echo "$JOBSET_VERSION"; echo "$JOBSET_DIR"'
    out = subprocess.run(
        ["bash", "-c", script], check=True, capture_output=True, text=True, env=os.environ.copy()
    ).stdout.splitlines()
    kubernetes, etcd, kwok = out[0].split()
    return PinnedVersions(
        kubernetes, etcd, kwok, Path(out[1]), out[2], Path(out[3]), out[4], Path(out[5])
    )


def find_bin_dir() -> Path:
    """Returns the bin directory holding every required binary, or explains what is missing."""
    bin_dir = pinned_versions().bin_dir
    missing = [name for name in REQUIRED_BINARIES if not os.access(bin_dir / name, os.X_OK)]
    if missing:
        raise MissingBinariesError(f"missing {', '.join(missing)} in {bin_dir}: {BUILD_HINT}")
    return bin_dir


def find_kueue_dir() -> Path:
    """Returns the directory hack/build-kueue.sh fills, or explains that it has not run."""
    kueue_dir = pinned_versions().kueue_dir
    if not os.access(kueue_dir / "bin" / "kueue", os.X_OK):
        raise MissingBinariesError(f"no Kueue manager in {kueue_dir}: {KUEUE_BUILD_HINT}")
    return kueue_dir


def find_jobset_dir() -> Path:
    """Returns the directory hack/build-jobset.sh fills, or explains that it has not run."""
    jobset_dir = pinned_versions().jobset_dir
    if not os.access(jobset_dir / "bin" / "jobset", os.X_OK):
        raise MissingBinariesError(f"no JobSet manager in {jobset_dir}: {JOBSET_BUILD_HINT}")
    return jobset_dir

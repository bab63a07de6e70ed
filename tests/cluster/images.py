"""The real node's images, built without Docker or a registry, cached by their inputs.

- the sandbox image: our own static `pause` (hack/pause/pause.c), tagged as containerd's
  configured sandbox image so containerd never tries to pull one;
- the trial image, the contents of trial-image/Dockerfile in two layers: the cached base
  (tests/cluster/rootfs.py) and a small top with the kubetune package and examples/ at
  /app, so a change to the source rebuilds seconds of work, not minutes.

buildah (vfs storage, its own directories) commits them; each becomes an OCI archive that
the node imports with `ctr`. Names carry `docker.io/` because that is how the CRI spells
an unqualified image such as `kubetune/trial:0.1.0`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.cluster.binaries import REPO_ROOT
from tests.cluster.containerd import SANDBOX_IMAGE
from tests.cluster.rootfs import TRIAL_USER_UID, VENV, base_key, build_base_rootfs

TRIAL_IMAGE = "docker.io/kubetune/trial:0.1.0"
PAUSE_SOURCE = REPO_ROOT / "hack" / "pause" / "pause.c"
# What the top layer is made of; any change to these rebuilds it (and only it).
TOP_LAYER_INPUTS = ("pyproject.toml", "README.md", "operator", "examples")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
TRIAL_ENV = (
    f"PATH={VENV}/bin:/usr/local/bin:/usr/bin:/bin",
    "PYTHONUNBUFFERED=1",
    "PYTHONDONTWRITEBYTECODE=1",
)


@dataclass(frozen=True)
class BuiltImage:
    name: str
    archive: Path


def images_cache_dir() -> Path:
    cache = Path(os.environ.get("KUBETUNE_CACHE", Path.home() / ".cache" / "kubetune"))
    path = cache / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path


def node_cache_dir() -> Path:
    path = images_cache_dir().parent / "node"
    path.mkdir(parents=True, exist_ok=True)
    return path


def buildah(*args: str | Path) -> str:
    storage = images_cache_dir() / "buildah"
    argv = [
        "buildah",
        f"--root={storage / 'root'}",
        f"--runroot={storage / 'run'}",
        "--storage-driver=vfs",
        *map(str, args),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"buildah {' '.join(map(str, args))} failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip()


def has_image(name: str) -> bool:
    return name in buildah("images", "--format={{.Name}}:{{.Tag}}").split()


def _export(name: str, archive: Path) -> BuiltImage:
    """An uncompressed OCI archive: gzip would cost more time than the disk it saves."""
    if not archive.exists():
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        buildah("push", "--quiet", "--disable-compression", name, f"oci-archive:{partial}:{name}")
        partial.rename(archive)
    return BuiltImage(name, archive)


def build_pause_image() -> BuiltImage:
    key = hashlib.sha256(PAUSE_SOURCE.read_bytes() + SANDBOX_IMAGE.encode()).hexdigest()[:16]
    archive = images_cache_dir() / f"pause-{key}.tar"
    if not archive.exists():
        with tempfile.TemporaryDirectory() as scratch:
            binary = Path(scratch) / "pause"
            subprocess.run(["gcc", "-Os", "-static", "-s", "-o", binary, PAUSE_SOURCE], check=True)
            container = buildah("from", "scratch")
            buildah("copy", container, binary, "/pause")
            buildah("config", '--entrypoint=["/pause"]', container)
            buildah("commit", "--quiet", "--rm", container, SANDBOX_IMAGE)
    return _export(SANDBOX_IMAGE, archive)


def trial_base() -> str:
    """The base image in buildah's storage, committed from the cached root filesystem."""
    name = f"localhost/kubetune/trial-base:{base_key()}"
    if not has_image(name):
        rootfs = build_base_rootfs(images_cache_dir())
        container = buildah("from", "scratch")
        buildah("copy", container, f"{rootfs}/", "/")
        buildah("commit", "--quiet", "--rm", container, name)
    return name


def top_layer_key(base: str) -> str:
    digest = hashlib.sha256(base.encode())
    for top in TOP_LAYER_INPUTS:
        root = REPO_ROOT / top
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(REPO_ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def build_trial_image() -> BuiltImage:
    base = trial_base()
    key = top_layer_key(base)
    if not (images_cache_dir() / f"trial-{key}.tar").exists():
        settings = [*(f"--env={e}" for e in TRIAL_ENV), "--workingdir=/app"]
        settings += [f"--user={TRIAL_USER_UID}", "--entrypoint=[]"]
        settings += ['--cmd=["kubetune-reporter", "--help"]']
        examples_to_app = "mkdir -p /app && mv /tmp/src/examples /app/ && rm -rf /tmp/src"
        commit_source_layer(base, TRIAL_IMAGE, examples_to_app, settings)
    return export_latest(TRIAL_IMAGE, "trial", key)


def export_latest(name: str, prefix: str, key: str) -> BuiltImage:
    """Exports `name` as `<prefix>-<key>.tar` and deletes that prefix's older archives:
    each holds the whole image, and only the latest is used."""
    archive = images_cache_dir() / f"{prefix}-{key}.tar"
    built = _export(name, archive)
    for stale in images_cache_dir().glob(f"{prefix}-*.tar"):
        if stale != archive:
            stale.unlink()
    return built


def _clean_source_copy(source: Path) -> Path:
    source.mkdir()
    for top in TOP_LAYER_INPUTS:
        if (REPO_ROOT / top).is_dir():
            shutil.copytree(REPO_ROOT / top, source / top, ignore=IGNORED)
        else:
            shutil.copy2(REPO_ROOT / top, source / top)
    return source


def commit_source_layer(base: str, name: str, then: str, settings: list[str]) -> None:
    """On `base`, pip installs kubetune from a clean copy of the source (setuptools writes
    build files next to it) with no dependencies and no index: the base has them. `then`
    is a shell command run afterwards; `settings` are `buildah config` options."""
    with tempfile.TemporaryDirectory() as scratch:
        source = _clean_source_copy(Path(scratch) / "src")
        container = buildah("from", base)
        buildah("copy", container, source, "/tmp/src")
        pip = [f"{VENV}/bin/pip", "install", "--quiet", "--no-deps", "--no-index"]
        pip += ["--no-build-isolation", "/tmp/src"]
        buildah("run", "--isolation=chroot", container, "--", *pip)
        buildah("run", "--isolation=chroot", container, "--", "sh", "-c", then)
        for setting in settings:
            buildah("config", setting, container)
        buildah("commit", "--quiet", "--rm", container, name)
    buildah("rmi", "--prune")  # the layers of earlier builds, no longer tagged


def build_node_images() -> list[BuiltImage]:
    """Every image the real node needs; one builder at a time per machine."""
    with (images_cache_dir() / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return [build_pause_image(), build_trial_image()]


if __name__ == "__main__":  # hack/build-node-images.sh: build ahead of the tests
    for built in build_node_images():
        print(f"{built.name} {built.archive}")

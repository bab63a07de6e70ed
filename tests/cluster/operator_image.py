"""The operator image for the real node: the top-level Dockerfile's contents (kubetune
with every dependency, `kopf run` as the entrypoint, user 1000), built like the trial
image in cached layers: the trial base, then the dependencies, then the source.

The dependencies are pyproject.toml's; the host's pip downloads their wheels (it trusts
the network's certificates) and the chroot installs them with no index.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib

from tests.cluster.binaries import REPO_ROOT
from tests.cluster.images import (
    BuiltImage,
    buildah,
    commit_source_layer,
    export_latest,
    has_image,
    images_cache_dir,
    top_layer_key,
    trial_base,
)
from tests.cluster.rootfs import TRIAL_USER_UID, VENV

OPERATOR_IMAGE = "docker.io/kubetune/operator:0.1.0"
# As in the Dockerfile's CMD; the chart passes its own arguments.
KOPF_ARGS = '["run", "--module=kubetune.reconcile.handlers", "--standalone", "--all-namespaces"]'


def operator_requirements() -> list[str]:
    """The Dockerfile installs kubetune with the dashboard extra (the chart's dashboard)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dashboard"]]


def _dependencies_layer() -> str:
    base = trial_base()
    recipe = "\n".join([base, *operator_requirements()]).encode()
    name = f"localhost/kubetune/operator-deps:{hashlib.sha256(recipe).hexdigest()[:16]}"
    if has_image(name):
        return name
    wheels = images_cache_dir() / "wheels"
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    download += ["--python-version=3.11", "-d", str(wheels), *operator_requirements()]
    subprocess.run(download, check=True, capture_output=True)
    container = buildah("from", base)
    pip = [f"{VENV}/bin/pip", "install", "--quiet", "--no-index", "--find-links=/wheels"]
    buildah("run", "--isolation=chroot", f"--volume={wheels}:/wheels:ro", container, "--",
            *pip, *operator_requirements())  # fmt: skip
    buildah("commit", "--quiet", "--rm", container, name)
    return name


def build_operator_image() -> BuiltImage:
    dependencies = _dependencies_layer()
    key = top_layer_key(dependencies)
    if not (images_cache_dir() / f"operator-{key}.tar").exists():
        settings = [f"--env=PATH={VENV}/bin:/usr/bin:/bin", "--env=PYTHONUNBUFFERED=1"]
        settings += ["--env=PYTHONDONTWRITEBYTECODE=1", f"--user={TRIAL_USER_UID}"]
        settings += ['--entrypoint=["kopf"]', f"--cmd={KOPF_ARGS}"]
        commit_source_layer(dependencies, OPERATOR_IMAGE, "rm -rf /tmp/src", settings)
    return export_latest(OPERATOR_IMAGE, "operator", key)


if __name__ == "__main__":
    built = build_operator_image()
    print(f"{built.name} {built.archive}")

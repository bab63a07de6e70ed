"""containerd for the real node: a private instance that never touches a host's own.

Its socket and state live in the node's work directory; its root (the image content and
snapshots) is kept under ~/.cache/kubetune/node so images are imported once, not per run.
Leftover containers of an earlier run that was killed are removed at start and at stop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cluster.processes import Component

CRI_NAMESPACE = "k8s.io"  # the containerd namespace the CRI plugin (so the kubelet) uses
SANDBOX_IMAGE = "registry.k8s.io/pause:3.10"  # the kubelet 1.33 default; built locally
CNI_BIN_DIR = "/usr/lib/cni"  # Debian's containernetworking-plugins
CONFIG = """\
version = 2
root = "{root}"
state = "{state}"
[grpc]
  address = "{socket}"
[ttrpc]
  address = "{socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  # No CAP_SYS_RESOURCE on these machines: lowering oom_score_adj below the parent's
  # fails, so sandboxes (-998) and Guaranteed pods (-997) could not start otherwise.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin_dir}"
    conf_dir = "{cni_conf_dir}"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
"""


class Containerd:
    """One containerd process and the `ctr` commands the node needs from it."""

    def __init__(self, root: Path, state: Path, cni_conf_dir: Path, log_dir: Path) -> None:
        self.root, self.state, self.socket = root, state, state / "containerd.sock"
        root.mkdir(parents=True, exist_ok=True)
        state.mkdir(parents=True, exist_ok=True)
        self.config = state / "config.toml"
        self.config.write_text(
            CONFIG.format(
                root=root,
                state=state / "state",
                socket=self.socket,
                cni_bin_dir=CNI_BIN_DIR,
                sandbox_image=SANDBOX_IMAGE,
                cni_conf_dir=cni_conf_dir,
            )
        )
        self.log_dir = log_dir
        self.process: Component | None = None

    @property
    def endpoint(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> Component:
        argv = ["containerd", f"--config={self.config}"]
        self.process = Component("containerd", argv, self.log_dir)
        return self.process

    def answers(self) -> bool:
        return self.socket.exists() and self.ctr("version", check=False).returncode == 0

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = ["ctr", f"--address={self.socket}", f"--namespace={CRI_NAMESPACE}", *args]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=300)

    def image_names(self) -> set[str]:
        return set(self.ctr("images", "list", "--quiet").stdout.split())

    def import_archive(self, archive: Path) -> None:
        """Imports an OCI archive and unpacks it for the CRI's snapshotter."""
        self.ctr("images", "import", str(archive))

    def remove_all_containers(self) -> None:
        """Kills and deletes every container (pod sandboxes included) in the CRI namespace,
        so no workload outlives the node and no stale sandbox greets the next run."""
        for container in self.ctr("containers", "list", "--quiet", check=False).stdout.split():
            self.ctr("tasks", "kill", "--signal=SIGKILL", container, check=False)
            self.ctr("tasks", "delete", "--force", container, check=False)
            self.ctr("containers", "delete", container, check=False)

    def stop(self) -> None:
        if self.process is not None:
            self.remove_all_containers()
            self.process.stop()
            self.process = None

"""The launcher's own promises: a component that fails to start is named with its log,
and stopping leaves no process, port or temp directory behind.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.cluster import ControlPlane, ControlPlaneError

pytestmark = pytest.mark.integration


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def bin_dir_with_broken_apiserver(bin_dir: Path, tmp_path: Path) -> Path:
    """The real binaries, except a kube-apiserver that rejects its flags like a bad build."""
    for binary in bin_dir.iterdir():
        (tmp_path / binary.name).symlink_to(binary)
    (tmp_path / "kube-apiserver").unlink()
    script = tmp_path / "kube-apiserver"
    script.write_text("#!/bin/sh\necho 'Error: unknown flag: --made-up-flag' >&2\nexit 1\n")
    script.chmod(0o755)
    return tmp_path


def test_startup_failure_names_the_component_and_shows_its_log(
    bin_dir_with_broken_apiserver: Path,
) -> None:
    plane = ControlPlane(bin_dir_with_broken_apiserver)

    with pytest.raises(ControlPlaneError) as failure:
        plane.start()

    message = str(failure.value)
    assert "kube-apiserver exited" in message
    assert "unknown flag: --made-up-flag" in message
    assert not port_open(plane.ports.etcd_client), "etcd must be stopped after the failure"
    assert not plane.work_dir.exists()


def test_stop_leaves_no_process_port_or_directory(bin_dir: Path) -> None:
    plane = ControlPlane(bin_dir)
    cluster = plane.start()
    assert cluster.kubectl("get", "nodes", "-o", "name").stdout.strip() == "node/kt-gpu-node"
    pids = [component.pid for component in plane.components.values()]

    plane.stop()

    assert [pid for pid in pids if pid_alive(pid)] == []
    assert not port_open(plane.ports.apiserver)
    assert not plane.work_dir.exists()

"""No merge-conflict markers reach the repository's text: a marker in a doc or a chart
renders as nonsense and slips past every other check."""

from __future__ import annotations

import subprocess

from tests.cluster.binaries import REPO_ROOT

MARKERS = ("<<<<<<< ", ">>>>>>> ")


def test_no_tracked_file_holds_a_conflict_marker() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    marked = [
        name
        for name in files
        if (REPO_ROOT / name).is_file()
        and any(
            line.startswith(MARKERS)
            for line in (REPO_ROOT / name).read_text(errors="replace").splitlines()
        )
    ]
    assert marked == []

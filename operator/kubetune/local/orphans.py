"""Trainers left behind by a runner that was killed: record them, find them, end them.

A runner killed by ``kill -9`` cannot stop its trainers. The direct child dies with it
(``PR_SET_PDEATHSIG``, see process.py), but what that child started (data-loader workers,
a shell's children) lives on in the trial's process group. So while a trainer runs, the
runner keeps a small record in ``<dir>/processes/<trial>.json``: the process group, the
leader's start marker, and an environment entry that only this trial attempt carries.
The next runner of the experiment (which holds the lock, so no live runner owns these
trainers) ends every recorded group that is still alive, then re-runs those trials.

Never kill a stranger: pids are recycled. A group is ours only if its leader is alive
with the recorded start marker (boot id plus start time in clock ticks, unique on one
machine), or if a member of the group carries the attempt's environment entry. A
process-group id cannot be reused while any member of the group is alive, so one member
shown to be ours proves the whole group is. Where /proc is missing (not Linux) nothing
can be proven and nothing is killed.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class TrainerRecord:
    pgid: int
    start: str | None  # start_marker of the group leader, None where unknown
    marker: str  # "NAME=value" in the trainer's environment, unique to this attempt


def start_marker(pid: int) -> str | None:
    """Boot id and start time of a live process: the same pid with another start marker is
    another process. Fields after the command name, which may hold spaces and parentheses."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # a zombie is dead; only its parent has not reaped it yet
        return None
    return f"{boot}:{fields[19]}"


def group_members(pgid: int) -> Iterator[int]:
    """Live processes of process group `pgid`."""
    if not PROC.is_dir():
        return
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            yield int(entry.name)


def carries(pid: int, marker: str) -> bool:
    try:
        environment = (PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or not ours to read: then certainly not ours to kill
        return False
    return marker.encode() in environment.split(b"\0")


def is_ours(record: TrainerRecord) -> bool:
    if record.start is not None and start_marker(record.pgid) == record.start:
        return True
    return any(carries(pid, record.marker) for pid in group_members(record.pgid))


def save_record(path: Path, record: TrainerRecord) -> None:
    """Plain write: a torn record fails to parse, and then nothing is killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(record)), encoding="utf-8")


def load_record(path: Path) -> TrainerRecord | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        return TrainerRecord(int(saved["pgid"]), saved.get("start"), str(saved["marker"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def end_leftover_trainers(directory: Path) -> list[str]:
    """Kill the recorded trainer groups still alive; the trials they belonged to, by name.
    SIGKILL without a grace period: their runner is gone, and the trial runs again anyway."""
    ended: list[str] = []
    for path in sorted(directory.glob("*.json")):
        record = load_record(path)
        if record is not None and is_ours(record):
            try:
                os.killpg(record.pgid, signal.SIGKILL)
                ended.append(path.stem)
            except (ProcessLookupError, PermissionError):
                pass  # it ended by itself meanwhile (and its id went to someone else's)
        path.unlink(missing_ok=True)
    return ended

"""The errors a command ends with: a user's mistake (exit 2, one message), a suspended
experiment, an interrupted run. Light on purpose: importing them loads no runner."""

from __future__ import annotations

from kubetune.api import SpecError
from kubetune.local.errors import ExperimentSuspendedError, ResumeConflictError
from kubetune.local.interrupts import Interrupted
from kubetune.local.lock import DirectoryInUseError
from kubetune.planning.source import ExperimentNotFoundError

__all__ = ["USER_ERRORS", "ExperimentSuspendedError", "Interrupted"]

USER_ERRORS = (
    SpecError,
    ResumeConflictError,
    ExperimentNotFoundError,
    DirectoryInUseError,
    ValueError,
)

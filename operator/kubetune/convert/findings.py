"""What a conversion could not carry over: fields dropped with a reason (the result still
runs), and fields refused (no faithful result exists, so none is produced).

Every entry names the source field, so a user knows exactly where to look.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ConversionError(ValueError):
    """The source uses something kubetune cannot run; `refused` says what and where."""

    def __init__(self, refused: list[str]) -> None:
        lines = "\n".join(f"  - {entry}" for entry in refused)
        super().__init__(f"cannot convert; unsupported:\n{lines}")
        self.refused = refused


@dataclass
class Findings:
    """Collected while converting, so that one run reports every problem at once."""

    dropped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def drop(self, where: str, why: str) -> None:
        self.dropped.append(f"{where}: {why}")

    def refuse(self, where: str, why: str) -> None:
        self.refused.append(f"{where}: {why}")

    def raise_if_refused(self) -> None:
        if self.refused:
            raise ConversionError(self.refused)

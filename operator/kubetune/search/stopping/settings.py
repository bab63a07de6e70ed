"""Validation shared by every rule's settings, so each bad value is rejected with a
message that names the rule, the setting and what was expected, before any trial runs.
"""

from __future__ import annotations


def require_int(rule: str, setting: str, value: object, minimum: int) -> None:
    # bool is an int subclass, but `min_trials: true` is a typo, not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{rule}: {setting} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{rule}: {setting} must be >= {minimum}, got {value}")


def require_above(rule: str, setting: str, value: int, floor_name: str, floor: int) -> None:
    if value <= floor:
        raise ValueError(f"{rule}: {setting} ({value}) must be greater than {floor_name} ({floor})")

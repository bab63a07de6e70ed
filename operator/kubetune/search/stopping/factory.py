"""Build a stopping rule from the experiment's `earlyStopping` settings by name.

The API layer hands over snake_case settings; everything it could get wrong (an unknown
rule, a misspelt or ill-typed setting) becomes a ValueError naming the culprit, so the
operator can report it on the experiment instead of silently not stopping anything.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from kubetune.search.stopping.asha import AshaStopping
from kubetune.search.stopping.base import StoppingRule
from kubetune.search.stopping.hyperband import HyperbandStopping
from kubetune.search.stopping.median import MedianStopping

RULES: dict[str, type[MedianStopping | AshaStopping | HyperbandStopping]] = {
    "median": MedianStopping,
    "asha": AshaStopping,
    "hyperband": HyperbandStopping,
}
NO_RULE = "none"


def make_stopping_rule(name: str, **settings: Any) -> StoppingRule | None:
    """The rule called `name` with `settings`; None for "none" (train every trial fully)."""
    if name == NO_RULE:
        if settings:
            raise ValueError(
                f"early stopping rule 'none' takes no settings, got {sorted(settings)}"
            )
        return None
    rule = RULES.get(name)
    if rule is None:
        known = ", ".join([NO_RULE, *RULES])
        raise ValueError(f"unknown early stopping rule {name!r}; known rules: {known}")
    accepted = [field.name for field in fields(rule)]
    unknown = sorted(set(settings) - set(accepted))
    if unknown:
        raise ValueError(
            f"{name}: unknown setting(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
        )
    try:
        return rule(**settings)
    except TypeError as error:  # a required setting is missing (hyperband's max_resource)
        raise ValueError(f"{name}: {error}") from error

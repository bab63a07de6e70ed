"""`spec.earlyStopping`: the rule that ends losing trials early, with typed settings.

Resources (`minResource`, `maxResource`) count the `step` values a trainer reports,
usually epochs. A missing `rule` means none.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, Tag, model_validator

from kubetune.api import rules
from kubetune.api.base import SpecModel, tag_discriminator


class NoStopping(SpecModel):
    """Every trial runs to its end."""

    rule: Literal["none"] = "none"
    """The rule."""


class MedianStopping(SpecModel):
    """Stop a trial whose best value so far is worse than the median of others at that step."""

    rule: Literal["median"]
    """The rule."""
    min_trials: int = Field(5, ge=1)
    """Other trials that must have reached a step before a trial is judged at it."""
    warmup_steps: int = Field(1, ge=0)
    """Steps (reported `step` values) before which no trial is stopped."""


class _SuccessiveHalving(SpecModel):
    """Rungs at minResource * reductionFactor**k steps; a trial continues past a rung only
    among the best 1/reductionFactor of the values recorded there."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(
                "!has(self.maxResource) || self.maxResource > "
                + rules.or_default("minResource", 1),
                rules.MAX_RESOURCE_GREATER_THAN_MIN,
                field=".maxResource",
            )
        )
    )

    min_resource: int = Field(1, ge=1)
    """Step of the first rung, where trials are first compared."""
    max_resource: int | None = Field(None, ge=1)
    """Step at which a trial is complete, so no rung is at or beyond it; greater than
    minResource. Optional for asha, where rungs then go on without end."""
    reduction_factor: int = Field(3, ge=2)
    """One in this many trials continues past each rung; rungs are this factor apart."""

    @model_validator(mode="after")
    def _check_resources(self) -> Self:
        if self.max_resource is not None and self.max_resource <= self.min_resource:
            detail = f"got minResource={self.min_resource}, maxResource={self.max_resource}"
            raise rules.rule_error("maxResource", rules.MAX_RESOURCE_GREATER_THAN_MIN, detail)
        return self


class AshaStopping(_SuccessiveHalving):
    """Asynchronous successive halving: stop trials outside the top 1/reductionFactor."""

    rule: Literal["asha"]
    """The rule."""


class HyperbandStopping(_SuccessiveHalving):
    """Several successive-halving brackets with different minimum resources."""

    rule: Literal["hyperband"]
    """The rule."""
    max_resource: int = Field(ge=1)
    """Step at which a trial is complete, so no rung is at or beyond it; greater than
    minResource. Optional for asha, where rungs then go on without end."""


STOPPING_RULES = ("none", "median", "asha", "hyperband")

EarlyStoppingSpec = Annotated[
    Annotated[NoStopping, Tag("none")]
    | Annotated[MedianStopping, Tag("median")]
    | Annotated[AshaStopping, Tag("asha")]
    | Annotated[HyperbandStopping, Tag("hyperband")],
    tag_discriminator("rule", STOPPING_RULES, default="none"),
]

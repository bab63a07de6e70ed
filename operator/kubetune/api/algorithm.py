"""`spec.algorithm` and `spec.earlyStopping`: which suggester and which stopping rule,
with their settings as typed fields.

Each algorithm and rule is its own model, told apart by `name` / `rule`, so a setting
given to the wrong algorithm is an error rather than silently ignored. A missing `name`
means the default (bayesian), a missing `rule` means none.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, Tag, model_validator

from kubetune.api import rules
from kubetune.api.base import SpecModel, tag_discriminator

# Settings several algorithms share carry their description here, once.
Seed = Annotated[
    int, Field(0, ge=0, description="Random seed: the same seed and history suggest the same.")
]
InitialTrials = Annotated[
    int | None,
    Field(
        None,
        ge=1,
        description="Space-filling trials before the model is used; unset: one more than the"
        " number of parameters, between 5 and 10.",
    ),
]


class GridAlgorithm(SpecModel):
    """Every point of a grid, visited in a seeded order that jumps across the space."""

    name: Literal["grid"]
    """The algorithm."""
    seed: Seed = 0
    resolution: int = Field(5, ge=2, le=1000)
    """Evenly spaced points per float parameter (on its scale); int parameters use their steps."""


class RandomAlgorithm(SpecModel):
    """Independent uniform draws (on each parameter's scale)."""

    name: Literal["random"]
    """The algorithm."""
    seed: Seed = 0


class SobolAlgorithm(SpecModel):
    """A scrambled Sobol sequence: quasi-random points that cover the space evenly."""

    name: Literal["sobol"]
    """The algorithm."""
    seed: Seed = 0


class BayesianAlgorithm(SpecModel):
    """A Gaussian process model of the objective, choosing points by expected improvement."""

    name: Literal["bayesian"] = "bayesian"
    """The algorithm."""
    seed: Seed = 0
    initial_trials: InitialTrials = None
    max_history: int = Field(300, ge=10)
    """Most trials the model is fitted on: the best half of them plus a seeded sample."""


class TpeAlgorithm(SpecModel):
    """Tree-structured Parzen estimator: densities of good and bad trials, sampled where
    good ones are likelier."""

    name: Literal["tpe"]
    """The algorithm."""
    seed: Seed = 0
    initial_trials: InitialTrials = None
    gamma: float = Field(0.25, gt=0, lt=1)
    """Fraction of finished trials counted as good, between 0 and 1."""
    candidates: int = Field(24, ge=1)
    """Candidates drawn from the good density and scored per suggestion."""


class EvolutionAlgorithm(SpecModel):
    """Regularized evolution: mutated winners of tournaments among recent trials."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(
                f"{rules.or_default('tournamentSize', 5)} <= "
                f"{rules.or_default('populationSize', 20)}",
                rules.TOURNAMENT_WITHIN_POPULATION,
                field=".tournamentSize",
            )
        )
    )

    name: Literal["evolution"]
    """The algorithm."""
    seed: Seed = 0
    population_size: int = Field(20, ge=2)
    """Most recent finished trials that form the population; random trials until then."""
    tournament_size: int = Field(5, ge=1)
    """Members drawn at random per tournament; the best becomes a parent."""
    mutation_scale: float = Field(0.1, gt=0, le=1)
    """Size of a mutation: the standard deviation of a step as a fraction of each range (on
    its scale), and the chance that a categorical value is redrawn."""

    @model_validator(mode="after")
    def _check_tournament(self) -> Self:
        if self.tournament_size > self.population_size:
            detail = f"got {self.tournament_size} > {self.population_size}"
            raise rules.rule_error("tournamentSize", rules.TOURNAMENT_WITHIN_POPULATION, detail)
        return self


ALGORITHM_NAMES = ("grid", "random", "sobol", "bayesian", "tpe", "evolution")
DEFAULT_ALGORITHM = "bayesian"


AlgorithmSpec = Annotated[
    Annotated[GridAlgorithm, Tag("grid")]
    | Annotated[RandomAlgorithm, Tag("random")]
    | Annotated[SobolAlgorithm, Tag("sobol")]
    | Annotated[BayesianAlgorithm, Tag("bayesian")]
    | Annotated[TpeAlgorithm, Tag("tpe")]
    | Annotated[EvolutionAlgorithm, Tag("evolution")],
    tag_discriminator("name", ALGORITHM_NAMES, default=DEFAULT_ALGORITHM),
]

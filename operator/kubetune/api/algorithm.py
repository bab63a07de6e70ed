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

Seed = Annotated[int, Field(0, ge=0, description="Seed making suggestions reproducible.")]
InitialTrials = Annotated[
    int | None, Field(None, ge=1, description="Random trials before the model is used.")
]


class GridAlgorithm(SpecModel):
    name: Literal["grid"]
    seed: Seed = 0
    resolution: int = Field(5, ge=2, le=1000, description="Points per float parameter.")


class RandomAlgorithm(SpecModel):
    name: Literal["random"]
    seed: Seed = 0


class SobolAlgorithm(SpecModel):
    name: Literal["sobol"]
    seed: Seed = 0


class BayesianAlgorithm(SpecModel):
    name: Literal["bayesian"] = "bayesian"
    seed: Seed = 0
    initial_trials: InitialTrials = None
    max_history: int = Field(
        300,
        ge=10,
        description="Trials the GP conditions on: the best half of them plus a seeded sample.",
    )


class TpeAlgorithm(SpecModel):
    name: Literal["tpe"]
    seed: Seed = 0
    initial_trials: InitialTrials = None
    gamma: float = Field(0.25, gt=0, lt=1, description="Fraction of trials deemed good.")
    candidates: int = Field(24, ge=1, description="Candidates scored per suggestion.")


class EvolutionAlgorithm(SpecModel):
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
    seed: Seed = 0
    population_size: int = Field(20, ge=2)
    tournament_size: int = Field(5, ge=1)
    mutation_scale: float = Field(0.1, gt=0, le=1, description="Std of unit-cube mutations.")

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

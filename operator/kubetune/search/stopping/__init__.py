"""Early-stopping rules: decide from learning curves which running trials to stop, so
GPUs go to promising configurations. Pure numerics, no I/O, no state between calls.
"""

from kubetune.search.stopping.asha import AshaStopping
from kubetune.search.stopping.base import StoppingRule
from kubetune.search.stopping.curve import Curve, best_until, rung_value, running_average_until
from kubetune.search.stopping.factory import make_stopping_rule
from kubetune.search.stopping.hyperband import HyperbandStopping
from kubetune.search.stopping.median import MedianStopping

__all__ = [
    "AshaStopping",
    "Curve",
    "HyperbandStopping",
    "MedianStopping",
    "StoppingRule",
    "best_until",
    "make_stopping_rule",
    "rung_value",
    "running_average_until",
]

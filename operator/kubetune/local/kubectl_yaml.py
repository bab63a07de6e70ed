"""YAML read the way kubectl reads it, so a number in a spec is a number in both runtimes.

PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: `1e-3` and
`1.0e3` are strings to it, while kubectl's YAML library reads them as numbers. With the
API's strict types a string is never a number, so local mode would refuse `min: 1e-3`,
which `kubectl apply` accepts. This loader also resolves YAML 1.2 floats; a quoted
`"1e-3"` stays a string in both.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# YAML 1.2 core schema floats (sign, digits, optional fraction, optional exponent).
_FLOAT_1_2 = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


class KubectlLoader(yaml.SafeLoader):
    """SafeLoader plus YAML 1.2 floats; PyYAML's own resolvers (ints first) still win."""


KubectlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1_2, list("-+.0123456789"))


def load_yaml(text: str) -> Any:
    """The one document in `text`, numbers resolved as kubectl resolves them."""
    return yaml.load(text, Loader=KubectlLoader)  # safe: a SafeLoader subclass

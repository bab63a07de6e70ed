"""``kubetune convert katib FILE``: a Katib v1beta1 Experiment as a TuningExperiment.

What cannot be carried over is said on stderr and as comments atop the YAML; a field
that makes the conversion impossible ends the command with exit 2, naming it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from kubetune.convert import convert_katib
from kubetune.local.prepare import load_document


def convert(args: argparse.Namespace) -> int:
    conversion = convert_katib(load_document(Path(args.experiment)))
    for entry in conversion.dropped:
        with contextlib.suppress(OSError):  # stderr may be a closed pipe too
            print(f"kubetune: not carried over: {entry}", file=sys.stderr)
    text = conversion.to_yaml(args.experiment)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0

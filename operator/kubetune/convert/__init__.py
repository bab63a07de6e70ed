"""Conversions of other tools' experiments into TuningExperiments, so their users can move
over by running one command rather than rewriting YAML by hand.

Pure document-to-document functions: no cluster, no files. `kubetune convert` is the
command that reads and writes them.
"""

from kubetune.convert.findings import ConversionError, Findings
from kubetune.convert.katib import Conversion, convert_katib

__all__ = ["Conversion", "ConversionError", "Findings", "convert_katib"]

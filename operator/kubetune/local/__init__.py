"""The embedded local mode: run a TuningExperiment on this machine without a cluster,
trials as subprocesses.

This module stays free of imports: the command line reads `DEFAULT_ROOT` for its
``--help`` without loading the runner.
"""

DEFAULT_ROOT = ".kubetune"  # the runner's directory, relative to where it runs

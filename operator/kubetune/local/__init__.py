"""The embedded local mode: run a TuningExperiment on this machine without a cluster,
trials as subprocesses.
"""

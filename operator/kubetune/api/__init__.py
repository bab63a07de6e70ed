"""Pydantic models of the TuningExperiment and TuningTrial resources, and the CRD YAML
generated from them.
"""

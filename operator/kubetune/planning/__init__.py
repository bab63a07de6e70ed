"""Pure decisions: given an experiment spec and its observed trials, what to create, stop
and record; the Job manifest builders.
"""

"""``kubetune dashboard``: the experiments as Optuna studies, shown by optuna-dashboard.

`trials` maps an experiment and its TuningTrials onto Optuna's records (pure);
`mirror` keeps an in-memory Optuna storage current from an `ExperimentSource`;
`server` serves optuna-dashboard over that storage, read-only. Needs the ``dashboard``
extra (``pip install 'kubetune[dashboard]'``); nothing else in kubetune imports Optuna.
"""

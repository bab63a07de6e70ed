"""Real model-tuning tasks (Bayesmark style) on scikit-learn's bundled datasets.

Each task is a small model on a small dataset scored by 3-fold cross-validation, so one
evaluation takes milliseconds and a benchmark of thousands of trials fits in minutes.
The objective is 1 - accuracy (classifiers) or the normalized mean squared error
(regression). Optima are unknown: regret is measured against the best value ever seen.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from benchmarks.problems import Problem
from kubetune.search.space import Assignment, CategoricalParam, FloatParam, IntParam, SearchSpace


@cache
def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    loaded = getattr(datasets, f"load_{name}")()
    x, y = loaded.data, loaded.target
    if name == "digits":  # a fixed subset keeps one SVC fit around 10 ms
        keep = np.random.default_rng(0).permutation(len(y))[:600]
        x, y = x[keep], y[keep]
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    return x, y


def cv_objective(data: str, build: Callable[[Assignment], Any], regression: bool = False):
    evaluated: dict[tuple[Any, ...], float] = {}

    def evaluate(params: Assignment) -> float:
        key = tuple(params.values())
        if key not in evaluated:
            x, y = dataset(data)
            scoring = "neg_mean_squared_error" if regression else "accuracy"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", FutureWarning)
                score = cross_val_score(build(params), x, y, cv=3, scoring=scoring).mean()
            evaluated[key] = float(-score if regression else 1 - score)
        return evaluated[key]

    return evaluate


def scaled(model: Any) -> Any:
    return make_pipeline(StandardScaler(), model)


def svc(p: Assignment) -> Any:
    return scaled(SVC(C=p["C"], gamma=p["gamma"]))


def logreg(p: Assignment) -> Any:
    l1_ratio = 1.0 if p["penalty"] == "l1" else 0.0  # `penalty` is deprecated in sklearn 1.8
    return scaled(LogisticRegression(C=p["C"], l1_ratio=l1_ratio, solver="liblinear", tol=p["tol"]))


def knn(p: Assignment) -> Any:
    return scaled(KNeighborsClassifier(n_neighbors=p["k"], weights=p["weights"], p=p["p"]))


def tree(p: Assignment) -> Any:
    return DecisionTreeClassifier(
        max_depth=p["depth"],
        min_samples_split=p["split"],
        min_samples_leaf=p["leaf"],
        criterion=p["criterion"],
        max_features=p["features"],
        random_state=0,
    )


def elasticnet(p: Assignment) -> Any:
    return scaled(ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=2000))


def svc_rbf_wine(p: Assignment) -> Any:
    return scaled(SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"], degree=3))


ML_TASKS = [
    Problem(
        "svc-digits",
        SearchSpace(
            (FloatParam("C", 1e-3, 1e3, log=True), FloatParam("gamma", 1e-5, 1.0, log=True))
        ),
        cv_objective("digits", svc),
        None,
    ),
    Problem(
        "logreg-cancer",
        SearchSpace(
            (
                FloatParam("C", 1e-4, 1e2, log=True),
                CategoricalParam("penalty", ("l1", "l2")),
                FloatParam("tol", 1e-5, 1e-1, log=True),
            )
        ),
        cv_objective("breast_cancer", logreg),
        None,
    ),
    Problem(
        "knn-wine",
        SearchSpace(
            (
                IntParam("k", 1, 60),
                CategoricalParam("weights", ("uniform", "distance")),
                IntParam("p", 1, 2),
            )
        ),
        cv_objective("wine", knn),
        None,
    ),
    Problem(
        "tree-cancer",
        SearchSpace(
            (
                IntParam("depth", 1, 20),
                IntParam("split", 2, 40),
                IntParam("leaf", 1, 20),
                CategoricalParam("criterion", ("gini", "entropy")),
                FloatParam("features", 0.1, 1.0),
            )
        ),
        cv_objective("breast_cancer", tree),
        None,
    ),
    Problem(
        "elasticnet-diabetes",
        SearchSpace((FloatParam("alpha", 1e-4, 10.0, log=True), FloatParam("l1_ratio", 0.0, 1.0))),
        cv_objective("diabetes", elasticnet, regression=True),
        None,
    ),
    Problem(
        "svc-wine",
        SearchSpace(
            (
                FloatParam("C", 1e-3, 1e3, log=True),
                FloatParam("gamma", 1e-4, 10.0, log=True),
                CategoricalParam("kernel", ("rbf", "poly", "sigmoid")),
            )
        ),
        cv_objective("wine", svc_rbf_wine),
        None,
    ),
    Problem(
        "tree-iris",
        SearchSpace(
            (
                IntParam("depth", 1, 10),
                IntParam("split", 2, 30),
                IntParam("leaf", 1, 15),
                CategoricalParam("criterion", ("gini", "entropy")),
                FloatParam("features", 0.25, 1.0),
            )
        ),
        cv_objective("iris", tree),
        None,
    ),
]

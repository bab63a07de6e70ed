"""kubetune: Kubernetes-native hyperparameter tuning.

The package root stays empty on purpose: each layer (search, api, planning, k8s,
reconcile, reporting, local) is imported on its own so that the trial image and the
embedded local mode never pay for the Kubernetes client.
"""

__version__ = "0.1.0"

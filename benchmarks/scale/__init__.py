"""The operator at cluster scale: many experiments, many parallel trials, long histories.

`benchmarks/operator_scale.py` is the entry point; this package holds its parts, so the
integration test of the burst scenario (tests/integration/test_operator_scale_burst.py)
plays trials with exactly the same driver:

- `cluster_setup`: the local control plane, sized with extra kwok GPU nodes;
- `operator_process`: the operator as a child process whose RSS and CPU are sampled;
- `watching`: raw watch streams (no model decoding, so the benchmark stays cheap);
- `driver`: plays kubelet and reporter sidecar for every trial pod;
- `scrape`: the API server's and the operator's Prometheus counters;
- `scenario`: one scenario end to end; `analysis`: figures and correctness checks;
- `tables`: the printed tables, with the baseline column and ratios.
"""

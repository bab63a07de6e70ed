"""Search spaces, suggesters and early-stopping rules: pure numerics (numpy, scikit-learn),
no I/O, so every decision can be unit-tested and replayed.
"""

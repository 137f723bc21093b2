"""QKMS benchmarks: run with `python -m benchmarks.run` (see benchmarks/README.md).

Benchmarks are not tests: they print figures and ratios measured side by side in one run and
assert nothing about time. `tests/bench` only checks that a smoke run completes.
"""

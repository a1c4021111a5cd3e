"""Benchmarks: `python -m bench.e2e` (see bench/README.md)."""

"""Benchmarks of the suite and of the answer key: `python -m benchmarks` (docs/speed.md)."""

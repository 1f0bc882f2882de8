"""Benchmarks of the quality bars in DESIGN.md: `python -m bench` writes docs/BENCHMARKS.md."""

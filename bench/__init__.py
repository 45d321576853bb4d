"""Benchmark tooling: the retrieval baseline, the load generator, resource probes and the report (scripts/bench.py)."""

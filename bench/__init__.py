"""Benchmark tooling: the retrieval baseline, the load generator, resource probes and the report
(bench/run.py: `make bench`; processes from the launcher library, system/)."""

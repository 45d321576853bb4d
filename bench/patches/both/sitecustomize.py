"""Experiment only: both patches (fastvalidate + keepalive)."""
import importlib.util
from pathlib import Path

for name in ("fastvalidate", "keepalive"):
    p = Path(__file__).resolve().parent.parent / name / "sitecustomize.py"
    spec = importlib.util.spec_from_file_location(f"_bench_patch_{name}", p)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))

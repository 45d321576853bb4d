"""The shared response-level evaluation (../shared/eval/chat_eval.py) against the running system."""
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.system import ROOT, VENV_PY

pytestmark = pytest.mark.slow

SHARED = ROOT.parent / "shared" / "eval"
PROJECT_CASES = sorted((ROOT / "eval" / "cases").glob("*.jsonl"))


def run_eval(system, cases: Path, min_rate: float) -> subprocess.CompletedProcess:
    subprocess.run([str(VENV_PY), "-m", "backend.cli", "seed"], cwd=ROOT, env=system.child_env(), check=True,
                   capture_output=True)
    return subprocess.run(
        [sys.executable, str(SHARED / "chat_eval.py"), str(cases), "--bot", system.rest_webhook,
         "--backend", system.backend_url, "--min-pass-rate", str(min_rate), "-v"],
        capture_output=True, text=True, timeout=900)


def test_shared_sample_cases_all_pass(system):
    cases = SHARED / "sample_cases.jsonl"
    if not cases.exists():
        pytest.fail(f"shared evaluation cases missing: {cases}")
    out = run_eval(system, cases, 1.0)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("cases", PROJECT_CASES, ids=[p.stem for p in PROJECT_CASES])
def test_project_eval_set(system, cases):
    out = run_eval(system, cases, 0.95)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]

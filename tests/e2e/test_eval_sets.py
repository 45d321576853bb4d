"""Response-level evaluation (eval/chat_eval.py, the project's runner) against the running system.

The team's shared sample cases (../shared/eval/sample_cases.jsonl) run too where ../shared exists (the team's
machines and CI); a fresh clone without it skips only that test and says why.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from system import ROOT, VENV_PY

pytestmark = pytest.mark.slow

SHARED = ROOT.parent / "shared" / "eval"
RUNNER = ROOT / "eval" / "chat_eval.py"
PROJECT_CASES = sorted((ROOT / "eval" / "cases").glob("*.jsonl"))


def run_eval(
    system, cases: Path, min_rate: float, max_wrong: float | None = None
) -> subprocess.CompletedProcess:
    subprocess.run(
        [str(VENV_PY), "-m", "backend.cli", "seed"],
        cwd=ROOT,
        env=system.child_env(),
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            str(cases),
            "--bot",
            system.rest_webhook,
            "--backend",
            system.backend_url,
            "--min-pass-rate",
            str(min_rate),
            *(["--max-confident-wrong", str(max_wrong)] if max_wrong is not None else []),
            "-v",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_shared_sample_cases_all_pass(system):
    cases = SHARED / "sample_cases.jsonl"
    if not cases.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared evaluation cases missing in CI: {cases}")
        pytest.skip(f"{cases} is not here (only the team's machines and CI have ../shared)")
    out = run_eval(system, cases, 1.0)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("cases", PROJECT_CASES, ids=[p.stem for p in PROJECT_CASES])
def test_project_eval_set(system, cases):
    out = run_eval(system, cases, 0.95)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


BLIND = ROOT / "eval" / "blind" / "blind_v1.jsonl"
BLIND_MIN_RATE = (
    0.97  # measured 1.000 in Round 4 (0.983 before; docs/nlu.md); never tuned against (eval/blind/README.md)
)


def test_blind_set(system):
    """The frozen blind set, written from the spec alone. Runs after the project sets: its form cases are
    signed in as 2025000001 and may leave that student's form open when they fail."""
    out = run_eval(system, BLIND, BLIND_MIN_RATE)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


REAL = ROOT / "eval" / "real"
# Real graduates' questions (issue 20, eval/real/README.md): the frozen test half and the tune half.
# Regression guards a little under what was measured. Before the knowledge base was merged (docs/nlu.md "Round
# 5"): test 0.902 / confident-wrong 0.039, tune 0.950 / 0.030. With it (session 6 merge, docs/nlu.md "Round 5,
# merged"): test 0.804 / 0.127, tune 0.931 / 0.059: 8 of the test half's 13 confident-wrong replies are seeded
# knowledge entries answering (with their official source) questions labelled "the process document does not
# say". The issue's targets (0.90 and 0.03 on the test half) are not met; issue 20 stays open.
# Round 6 (docs/nlu.md): test 0.892 / 0.039 (10 of the passes are knowledge-base answers, which now open with
# "the procedure document does not cover this" and who to ask; a failed one counts as confident-wrong), tune
# 0.990 / 0.000.
# Round 7: a second tune set (eval/real/real_tune2.jsonl, harvested after Round 6): 0.886 / 0.068 before,
# 0.989 / 0.011 after.
REAL_MIN = {
    "real_test.jsonl": (0.88, 0.04),
    "real_tune.jsonl": (0.97, 0.02),
    "real_tune2.jsonl": (0.97, 0.02),
}


@pytest.mark.parametrize("name", sorted(REAL_MIN))
def test_real_question_set(system, name):
    min_rate, max_wrong = REAL_MIN[name]
    out = run_eval(system, REAL / name, min_rate, max_wrong)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]

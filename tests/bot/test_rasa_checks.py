"""Rasa's own checks on the project: the training data validates, and the test stories predict without error.

- `rasa data validate --fail-on-warnings`: domain, NLU, rules and config agree (the one warning Rasa prints,
  about the retrieval intent `faq` being declared in two domain files, is Rasa's own merge of retrieval
  intents and does not fail the check).
- `rasa test core --stories tests/stories --fail-on-prediction-errors` with the trained model: every test
  story's actions are predicted (the conversation flows of data/rules, one file per flow).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from system import RASA, ROOT, latest_model

pytestmark = pytest.mark.slow


def rasa(*args: str, cwd=ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    return subprocess.run(
        [str(RASA), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_training_data_validates():
    out = rasa(
        "data",
        "validate",
        "--domain",
        "domain",
        "--data",
        "../data",
        "--config",
        "config.yml",
        "--fail-on-warnings",
        cwd=ROOT / "bot",
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_test_stories_predict_without_error(tmp_path):
    out = rasa(
        "test",
        "core",
        "--stories",
        "tests/stories",
        "--model",
        str(latest_model()),
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8")[:3000] if failed.exists() else ""
    assert out.returncode == 0, detail + out.stdout[-2000:] + out.stderr[-2000:]
    assert "None of the test stories failed" in detail, detail

"""Issue 11 §5: every change the Rasa server makes to Rasa (production check, CORS allow-list, action timeout,
bot/perf.py) is applied by one explicit call at start-up (bot.startup.apply_rasa_patches, from
deploy/rasa_run.py), never as a side effect of importing the channels."""

from __future__ import annotations

import os
import subprocess

from system import RASA_PY, ROOT

IMPORT_ONLY = """
import bot.channels.secure_rest, bot.channels.wechat
import rasa.server, rasa.core.actions.action as action
from rasa.core.actions.action import RemoteAction
print("PATCHED" if getattr(rasa.server.configure_cors, "_allow_list", False) else "CLEAN",
      action.DEFAULT_REQUEST_TIMEOUT,
      getattr(RemoteAction._validate_action_result, "_perf_patched", False))
"""


def test_importing_the_channels_changes_nothing_in_rasa():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "ACTION_TIMEOUT": "7"}
    r = subprocess.run(
        [str(RASA_PY), "-W", "ignore", "-c", IMPORT_ONLY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-3:] == ["CLEAN", "300", "False"], r.stdout


def test_the_launcher_applies_every_patch_once_before_rasa_starts(stack):
    log = (stack.system.log_dir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    lines = [ln for ln in log.splitlines() if ln.startswith("rasa start-up: ")]
    assert len(lines) == 1, log[-3000:]
    assert all(
        part in lines[0]
        for part in (
            "action_timeout=9.0",
            "cors_allow_list=True",
            "action_validation=True",
            "endpoint_sessions=True",
            "sqlite_tracker_store=True",
        )
    ), lines[0]

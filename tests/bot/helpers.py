"""Shared code of the bot tests: run a script in Rasa's Python (.venv-rasa) on the latest trained model."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from system import RASA, ROOT, latest_model


def run_on_model(script: str, texts: list[str]) -> Any:
    """Run `script` with argv [model path, texts as JSON]; it prints one line "RESULT<json>": its value."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    out = subprocess.run(
        [
            str(RASA.parent / "python"),
            "-c",
            script,
            str(latest_model()),
            json.dumps(texts, ensure_ascii=False),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(line[len("RESULT") :])

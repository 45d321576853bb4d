"""A turn's outcome label (contracts/outcome.py, Rasa's venv) from the turn's events as Rasa's broker sends
them, including the NLU decision step's parse_data["uncertain"] (outcome clarify / abstain) when present."""

from __future__ import annotations

import json
import os
import subprocess

from system import RASA_PY, ROOT


def user(intent: str, outcome: str | None = None) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}}
    if outcome:
        parse["uncertain"] = {"outcome": outcome}
    return {"event": "user", "text": "…", "parse_data": parse}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def bot(key: str) -> dict:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": key}}


CASES = [
    ([user("faq"), action("utter_faq"), bot("utter_faq/login")], ["faq", "answered"]),
    ([user("nlu_fallback", "clarify"), action("action_uncertain")], ["nlu_fallback", "clarified"]),
    ([user("nlu_fallback", "abstain"), action("action_uncertain")], ["nlu_fallback", "abstained"]),
    ([user("nlu_fallback"), action("action_default_fallback")], ["nlu_fallback", "fallback"]),
    ([user("out_of_scope"), action("utter_out_of_scope")], ["out_of_scope", "fallback"]),
    ([user("greet"), action("utter_default"), bot("utter_default")], ["greet", "fallback"]),
    ([user("handoff"), action("action_handoff")], ["handoff", "handoff"]),
    ([user("check_status"), action("action_handoff")], ["check_status", "handoff"]),
    ([user("faq", "bogus")], ["faq", "answered"]),
]


def test_outcomes():
    code = (
        "import json, sys; from contracts.outcome import turn_outcome; "
        "print(json.dumps([list(turn_outcome(events)) for events in json.loads(sys.stdin.read())]))"
    )
    out = subprocess.run(
        [str(RASA_PY), "-c", code],
        cwd=ROOT,
        input=json.dumps([c[0] for c in CASES]),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == [c[1] for c in CASES]

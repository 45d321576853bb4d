"""The channels' handoff gate (bot/channels/handoff.py) against the real backend, in the Rasa environment: a
conversation nobody holds costs no backend call once the held list is fresh; a session this process opened is
held at once, one another process opened after the next poll; a closed one is let through; a down backend
lets the bot answer quickly."""

from __future__ import annotations

import json
import subprocess

from system import RASA_PY, ROOT, free_port
from tests.backend.helpers import INTEGRATION_KEY


def test_gate_asks_the_backend_only_for_held_conversations(srv):
    r = subprocess.run(
        [
            str(RASA_PY),
            "-m",
            "tests.handoff.gate_probe",
            srv.base,
            INTEGRATION_KEY,
            f"http://127.0.0.1:{free_port()}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "HANDOFF_GATE_POLL": "0.3", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["first"] is None and out["asked_before_list"] == 1
    assert out["asked_free_with_list"] == 0
    # queued: the backend stored the message and the bot answers it (not held); the conversation stays listed
    mine = out["mine"]
    assert mine == {"held": False, "state": "waiting", "note": None, "session_id": mine["session_id"]}
    assert out["mine_still_asked"] == 1 and out["store_asked"] == 0
    # the counselor sees the bot's answer (texts only, the blank one dropped) between the student's messages
    with srv.staff("school-admin") as c:
        msgs = c.get(f"/api/staff/handoff/{mine['session_id']}").json()["messages"]
        assert [(m["sender"], m["text"]) for m in msgs] == [
            ("student", "刚转人工"),
            ("bot", "排队时的回答"),
            ("student", "排队时再问一句"),
        ]
        other = c.get(f"/api/staff/handoff/{out['other']['session_id']}").json()["messages"]
        assert "bot" not in [m["sender"] for m in other]  # ended before the answer came: not kept
    assert out["other"] == {
        "held": False,
        "state": "waiting",
        "note": None,
        "session_id": out["other"]["session_id"],
    }
    assert out["other_end"]["state"] == "closed"
    assert out["after_end"] is None and out["after_end_again"] is None and out["asked_after_end"] == 1
    assert out["down"] is None and out["down_seconds"] < 3 and out["down_store_seconds"] < 3

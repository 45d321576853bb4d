"""What the benchmarks send to the assistant: the students they sign in as and the messages they pick.

A library for the benchmark entry points (bench/run.py `make bench`, bench/cluster.py, bench/experiment.py,
bench/knowledge_cost.py): roster students imported through the backend, and probes that read back what a
message does in the real system (its intent and the actions it ran, from the conversation's tracker).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.parse
import uuid
from pathlib import Path

import jwt

from backend.validators import id_check_digit
from bench.load import reply_text
from bot.channels.common import conversation_id
from system import ROOT, VENV_PY, System, http_get, http_post

# Signed-in questions answered by reading the back end (no writes), tried in this order.
ACTION_MESSAGES = [
    "我的审核进度到哪了",
    "我的毕业去向审核到哪一步了",
    "户档信息审核通过了吗",
    "我的办理进度怎么样了",
    "学校审核完了没",
    "查一下我的状态",
]
# Actions that change state or open a dialogue the next turn would answer: not used as load.
STATEFUL = ("submit", "cancel", "mailing", "handoff", "form", "correct")
SEEDED = [f"20250000{i:02d}" for i in range(1, 8)]


def add_students(system: System, n: int, tmp: Path) -> list[str]:
    """Import n more students through the backend's own roster import (same validation as the school's)."""
    grad = dt.date(dt.date.today().year + (1 if dt.date.today().month > 7 else 0), 6, 30).isoformat()
    rows = [
        {
            "id": f"2025{100000 + i}",
            "name": f"测试{i:02d}",
            "gender": "男" if i % 2 else "女",
            "college_code": "physics",
            "major": "物理学",
            "degree": "本科生毕业",
            "level": "本科",
            "graduation_date": grad,
            "id_number": id17 + id_check_digit(id17),
        }
        for i, id17 in ((i, f"110108200301{1 + i % 28:02d}{i:03d}") for i in range(1, n + 1))
    ]
    path = tmp / "bench_roster.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    subprocess.run(
        [str(VENV_PY), "-m", "backend.cli", "import-roster", str(path)],
        cwd=ROOT,
        env=system.child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return [r["id"] for r in rows]


# --- what a message does in the real system --------------------------------------------------------------
def conversation_of(sender: str, token: str | None) -> str:
    """The Rasa conversation id the REST channel derives (the token is the backend's, valid: not checked
    here)."""
    return conversation_id(jwt.decode(token, options={"verify_signature": False}) if token else None, sender)


def probe(system: System, text: str, token: str | None) -> dict:
    """Send one message; read back the intent and the actions it ran from the conversation's tracker."""
    sender = f"bench-probe-{uuid.uuid4().hex[:10]}"
    status, body = http_post(
        system.rest_webhook,
        {"sender": sender, "message": text, "metadata": {"token": token} if token else {}},
    )
    reply = reply_text(body) if status == 200 else ""
    conv = urllib.parse.quote(conversation_of(sender, token), safe=":")  # Sanic does not unquote %3A
    st, raw = http_get(system.rasa_api_url(f"/conversations/{conv}/tracker"), timeout=10)
    intent, actions = None, []
    if st == 200:
        events = json.loads(raw).get("events", [])
        for e in events:
            if e.get("event") == "user":
                intent = ((e.get("parse_data") or {}).get("intent") or {}).get("name")
                actions = []
            elif e.get("event") == "action" and e.get("name") not in (
                "action_listen",
                "action_session_start",
            ):
                actions.append(e["name"])
    return {"text": text, "intent": intent, "actions": actions, "reply": reply, "status": status}


def is_custom(action: str) -> bool:
    return not action.startswith("utter_") and action not in (
        "action_default_fallback",
        "action_two_stage_fallback",
        "action_restart",
        "action_back",
        "action_deactivate_loop",
        "action_unlikely_intent",
        "action_extract_slots",
    )


def choose_messages(system: System, eval_cases: Path, token: str, limit_faq: int = 20) -> dict:
    from bench.baseline import load_examples

    faq_candidates: list[str] = []
    for line in eval_cases.read_text(encoding="utf-8").splitlines():
        c = json.loads(line)
        if not c.get("login") and len(c["turns"]) == 1:
            faq_candidates.append(c["turns"][0]["say"])
    seen = set()
    for text, intent in load_examples(ROOT / "data" / "nlu"):
        if "/" in intent and intent not in seen:
            seen.add(intent)
            faq_candidates.append(text)
    faq, action = [], []
    for text in dict.fromkeys(faq_candidates):
        if len(faq) >= limit_faq:
            break
        p = probe(system, text, None)
        if p["status"] == 200 and p["reply"] and p["actions"] and not any(map(is_custom, p["actions"])):
            faq.append(p)
    for text in ACTION_MESSAGES:
        p = probe(system, text, token)
        if (
            p["status"] == 200
            and p["reply"]
            and any(map(is_custom, p["actions"]))
            and not any(w in a for a in p["actions"] for w in STATEFUL)
        ):
            action.append(p)
    return {"faq": faq, "action": action}

"""action_handoff against the real backend: it opens the session (queue or ticket), says so with the domain's
responses, hands the widget its payload, and falls back to the contact details when the backend is down."""

from __future__ import annotations

import uuid

import httpx
import pytest

from actions.handoff import ActionHandoff
from tests.actions.helpers import make_tracker, run_action, texts
from tests.backend.helpers import free_port, new_student, ok
from tests.handoff.helpers import SATURDAY, payload

HISTORY = [
    {"event": "user", "text": "档案能寄给我妈妈收吗", "parse_data": {}},
    {"event": "bot", "text": "不可以。档案接收人不能是毕业生本人或家属。"},
]


@pytest.fixture(autouse=True)
def _point_actions_at_backend(srv, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", srv.base)
    monkeypatch.setenv("BACKEND_TIMEOUT", "3")
    monkeypatch.setenv("ACTIONS_SERVICE_KEY", "demo-actions-service-key")


CONTACTS = ("utter_handoff_college_contact", "utter_handoff_center_contact", "utter_handoff_contact_sign_in")


def responses(msgs: list[dict]) -> list[str]:
    """The responses saying what happened (the contact details that follow every answer are checked apart)."""
    return [m["response"] for m in msgs if m.get("response") and m["response"] not in CONTACTS]


def college_contact(srv, sid: str) -> dict:
    with srv.student(sid) as c:
        body = ok(c.get("/api/me/contact"))
    return body.get("contact") or body


def test_signed_in_student_joins_their_colleges_queue_with_the_chat_so_far(srv):
    sid = new_student(srv, college="physics")
    tracker = make_tracker(
        "转人工",
        "handoff",
        srv.token(student_id=sid),
        events=HISTORY,
        sender=f"student:{sid}",
        metadata={"channel": "web"},
    )
    msgs, events = run_action(ActionHandoff(), tracker)
    assert events == [] and responses(msgs) == ["utter_handoff_queued"]
    assert msgs[0]["who"] == "你所在学院的辅导员"
    # a way to reach a person now, beside the queue: their college's contact
    contact = college_contact(srv, sid)
    assert contact["phone"] in texts(msgs) and "学院" in texts(msgs)
    p = payload(msgs)
    assert p["state"] == "waiting" and "secret" not in p
    with srv.staff("counselor-physics") as c:
        detail = ok(c.get(f"/api/staff/handoff/{p['session_id']}"))
    assert detail["student"]["id"] == sid
    assert [x["text"] for x in detail["transcript"]] == [
        "档案能寄给我妈妈收吗",
        "不可以。档案接收人不能是毕业生本人或家属。",
        "转人工",
    ]
    # asked again: told it is already with a person, the same session
    msgs, _ = run_action(
        ActionHandoff(), make_tracker("转人工", "handoff", srv.token(student_id=sid), sender=f"student:{sid}")
    )
    assert responses(msgs) == ["utter_handoff_already"] and payload(msgs)["session_id"] == p["session_id"]
    assert contact["phone"] in texts(msgs)
    # a counselor holds it now: told to write to them
    with srv.staff("counselor-physics") as c:
        ok(c.post(f"/api/staff/handoff/{p['session_id']}/take"))
    msgs, _ = run_action(
        ActionHandoff(), make_tracker("转人工", "handoff", srv.token(student_id=sid), sender=f"student:{sid}")
    )
    assert responses(msgs) == ["utter_handoff_already_active"] and payload(msgs)["state"] == "active"


def test_anonymous_visitor_gets_the_career_center_and_a_secret(srv):
    sender = "anon:" + uuid.uuid4().hex[:12]
    msgs, _ = run_action(ActionHandoff(), make_tracker("找老师", "handoff", sender=sender))
    assert responses(msgs) == ["utter_handoff_queued"] and msgs[0]["who"] == "学校就业指导中心的老师"
    assert httpx.get(srv.base + "/api/contacts").json()["general"]["phone"] in texts(msgs)
    p = payload(msgs)
    got = ok(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": p["secret"]}))
    assert got["session"]["id"] == p["session_id"] and got["session"]["state"] == "waiting"


def test_outside_office_hours_a_ticket_or_the_contacts(srv):
    srv.set_today(SATURDAY)
    sid = new_student(srv, college="physics")
    msgs, _ = run_action(
        ActionHandoff(), make_tracker("转人工", "handoff", srv.token(student_id=sid), sender=f"student:{sid}")
    )
    assert responses(msgs) == ["utter_handoff_ticket"] and "工作日" in msgs[0]["hours"]
    assert msgs[0]["minutes"] == 10 and college_contact(srv, sid)["phone"] in texts(msgs)
    assert payload(msgs)["state"] == "ticket_draft"
    general = httpx.get(srv.base + "/api/contacts").json()["general"]
    msgs, _ = run_action(
        ActionHandoff(), make_tracker("转人工", "handoff", sender="anon:" + uuid.uuid4().hex[:8])
    )
    assert responses(msgs) == ["utter_handoff_closed_hours"] and general["phone"] in texts(msgs)
    assert payload(msgs) is None


def test_wechat_payload_has_no_secret(srv):
    openid = "o" + uuid.uuid4().hex[:27]
    msgs, _ = run_action(
        ActionHandoff(),
        make_tracker("转人工", "handoff", sender=f"wechat:{openid}", metadata={"channel": "wechat"}),
    )
    assert responses(msgs) == ["utter_handoff_queued"] and payload(msgs)["state"] == "waiting"
    assert httpx.get(srv.base + "/api/contacts").json()["general"]["phone"] in texts(msgs)  # not bound
    assert "secret" not in payload(msgs)  # WeChat shows no text-less payload; the channel notes the session


def test_backend_down_gives_the_contact_fallback(srv, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{free_port()}")
    msgs, _ = run_action(ActionHandoff(), make_tracker("转人工", "handoff", sender="anon:down"))
    assert responses(msgs) == ["utter_handoff_no_contact"]
    assert "查不到老师的联系方式" in texts(msgs) and "学校就业指导中心" in texts(msgs)

"""action_check_status's progress payload (issue 15 §3) against the real backend: the text stays as it was, a
custom message without a `text` key (WeChat shows only the text) carries the five steps and the mailing
state."""

from actions.status import ActionCheckStatus
from tests.actions.helpers import make_tracker, render, run_action


def payload(backend, sid):
    msgs, _ = run_action(
        ActionCheckStatus(), make_tracker("我的进度", "check_status", token=backend.token(sid))
    )
    assert render(msgs[0])["text"] and not msgs[0].get("custom")
    custom = [m["custom"] for m in msgs if m.get("custom")]
    assert len(custom) == 1 and "text" not in custom[0]
    return custom[0]


def test_rejected_at_school_review(backend):
    p = payload(backend, "2025000003")
    dest = p["records"][0]
    assert dest["title"] == "毕业去向登记" and dest["current"] == 5
    assert [s["status"] for s in dest["steps"]] == ["done"] * 4 + ["rejected"]
    assert [s["label"] for s in dest["steps"]] == [
        "毕业去向类型",
        "填写信息",
        "已提交",
        "学院审核",
        "学校审核",
    ]
    assert dest["rejection"] == {
        "by": "学校",
        "reason": backend.get("/api/me/status", "2025000003")["destination"]["rejection_reason"],
    }


def test_shipped_with_ems(backend):
    p = payload(backend, "2025000006")
    assert all(s["status"] == "done" for r in p["records"] for s in r["steps"])
    assert p["mailing"] == {"state": "shipped", "label": "已寄出", "ems_no": "1151234567890"}

"""Feedback (issue 14 §4) and the turn log for staff (§3) over HTTP against the real backend: who may send and
see what, masking, CSV, retention and purge, demo data."""

from __future__ import annotations

import uuid

import pytest

from tests.backend.helpers import INTEGRATION_KEY, err, ok

LOGIN_TEXT = (
    "打开北京理工大学就业信息网（job.bit.edu.cn），点击“统一身份认证”，输入本人学号和密码登录，"
    "然后进入“手续办理”。"
)


def fb(srv, token=None, **kw):
    body = {
        "channel": "web",
        "conversation": f"web-{uuid.uuid4().hex[:8]}",
        "message_id": uuid.uuid4().hex[:12],
        "question": "学校平台怎么登录",
        "answer": LOGIN_TEXT,
        "rating": "up",
        **kw,
    }
    return srv.client(token).post("/api/feedback", json=body), body


def post_turns(srv, turns, key=INTEGRATION_KEY):
    return srv.client().post(
        "/api/integration/turns", json={"turns": turns}, headers={"X-Integration-Key": key}
    )


def overview(srv, staff_id="school-admin", days=7):
    with srv.staff(staff_id) as c:
        return ok(c.get("/api/staff/insights", params={"days": days}))


def test_demo_data_shows_a_few_days(srv):
    ov = overview(srv)
    assert ov["totals"]["turns"] >= 25 and ov["totals"]["unanswered"] >= 4 and ov["totals"]["handoffs"] >= 3
    assert any(t["question"] == "奖学金什么时候发" for t in ov["unanswered"])
    assert any(t["question"] == "出国留学档案怎么办" for t in ov["low_confidence"])
    assert {"答非所问", "内容缺失", "没有帮助", "事实错误"} <= set(ov["down_reasons"])
    assert len(ov["top_days"]) >= 4 and ov["top_week"][0]["count"] >= 2
    assert ov["retention_days"] == 180


def test_feedback_anonymous_and_signed_in(srv):
    r, body = fb(srv)
    assert ok(r)["answer_key"] == "utter_faq/login"  # the answer is recognised from its text
    # the same answer again: the rating changes, no second row
    r, _ = fb(
        srv,
        **{
            **{k: body[k] for k in ("conversation", "message_id")},
            "rating": "down",
            "reason": "内容缺失",
            "comment": "忘记密码怎么办没写，我的手机13812345678",
        },
    )
    out = ok(r)
    assert out["rating"] == "down" and out["reason"] == "内容缺失"
    down = [
        f
        for f in overview(srv)["thumbs_down"]
        if f["comment"] and f["comment"].startswith("忘记密码怎么办没写")
    ]
    assert len(down) == 1 and down[0]["student_id"] is None and "13812345678" not in down[0]["comment"]
    # a signed-in student's feedback carries their id (from the token, never from the body)
    tok = srv.token(student_id="2025000001")  # physics
    ok(fb(srv, tok, rating="down", reason="事实错误", comment="物理学院学生的反馈")[0])
    row = [f for f in overview(srv)["thumbs_down"] if f["comment"] == "物理学院学生的反馈"][0]
    assert row["student_id"] == "2025000001"
    assert [
        f for f in overview(srv, "counselor-physics")["thumbs_down"] if f["comment"] == "物理学院学生的反馈"
    ]
    assert not [
        f for f in overview(srv, "counselor-computer")["thumbs_down"] if f["comment"] == "物理学院学生的反馈"
    ]
    # anonymous feedback is nobody's college: school staff only
    assert not [
        f
        for f in overview(srv, "counselor-physics")["thumbs_down"]
        if (f["comment"] or "").startswith("忘记")
    ]


@pytest.mark.parametrize(
    "change,code,field",
    [
        ({"rating": "down"}, "validation_error", "reason"),
        ({"rating": "down", "reason": "不喜欢"}, "validation_error", "reason"),
        ({"rating": "meh"}, "validation_error", "rating"),
        ({"student_id": "2025000002"}, "validation_error", "student_id"),
        ({"comment": "长" * 501}, "validation_error", "comment"),
        ({"conversation": "a b<script>"}, "validation_error", "conversation"),
    ],
)
def test_bad_feedback_is_refused(srv, change, code, field):
    r, _ = fb(srv, **change)
    body = err(r, 422, code)
    assert body["fields"][0]["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


def test_forged_token_on_feedback_is_401(srv):
    err(fb(srv, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMDI1MDAwMDAyIn0.x")[0], 401, "not_authenticated")


def test_turn_ingestion_needs_the_integration_key_and_masks(srv):
    turn = {
        "at": srv.now().timestamp(),
        "channel": "web",
        "conversation": "t-1",
        "student_id": "2025000001",
        "question": "我的手机号13812345678和邮箱a.b@qq.com能改吗",
        "intent": "change_personal",
        "confidence": 0.42,
        "answer_key": "action_change_advice",
    }
    err(post_turns(srv, [turn], key="wrong"), 401, "not_authenticated")
    err(
        srv.client(srv.token(student_id="2025000001")).post("/api/integration/turns", json={"turns": [turn]}),
        401,
        "not_authenticated",
    )
    assert (
        ok(post_turns(srv, [turn, {**turn, "student_id": "9999999999", "question": "不存在的学号"}]))[
            "stored"
        ]
        == 2
    )
    ov = overview(srv)
    low = [t for t in ov["low_confidence"] if t["question"].startswith("我的手机号")][0]
    assert (
        "13812345678" not in low["question"]
        and "a.b@qq.com" not in low["question"]
        and "＊" in low["question"]
    )
    assert low["student_id"] == "2025000001"
    assert [t for t in ov["low_confidence"] if t["question"] == "不存在的学号"][0]["student_id"] is None
    out = ok(post_turns(srv, [{**turn, "confidence": 7}]))  # checked turn by turn (issue 21 §2)
    assert (
        out["stored"] == 0
        and out["rejected"] == 1
        and out["errors"] == [{"index": 0, "fields": ["confidence"]}]
    )


def test_csv_exports_scoped_with_bom_and_no_formulas(srv):
    ok(
        post_turns(
            srv,
            [
                {
                    "at": srv.now().timestamp(),
                    "channel": "web",
                    "conversation": "t-csv",
                    "student_id": "2025000001",
                    "question": '=HYPERLINK("http://evil")',
                    "intent": "nlu_fallback",
                    "confidence": 0.1,
                    "answer_key": "utter_default",
                    "fallback": True,
                }
            ],
        )
    )
    with srv.staff("counselor-physics") as c:
        r = c.get("/api/staff/insights/turns.csv", params={"days": 7})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.text.startswith("\ufeff时间,渠道,学号,问题")
        assert "'=HYPERLINK" in r.text and "\n=HYPERLINK" not in r.text
        assert "奖学金什么时候发" not in r.text  # an anonymous demo turn: not the counselor's
        f = c.get("/api/staff/insights/feedback.csv", params={"days": 7})
        assert f.status_code == 200 and f.text.startswith("\ufeff时间,渠道,学号,评价")
        err(c.get("/api/staff/insights", params={"days": 0}), 422, "validation_error")
    with srv.student("2025000001") as st:
        for path in (
            "/api/staff/insights",
            "/api/staff/insights/turns.csv",
            "/api/staff/insights/feedback.csv",
        ):
            err(st.get(path), 403, "forbidden")
    for path in ("/api/staff/insights", "/api/staff/insights/turns.csv", "/api/staff/insights/feedback.csv"):
        err(srv.client().get(path), 401, "not_authenticated")


def test_purge_deletes_what_is_older_than_the_retention(srv):
    old = (
        srv.now().timestamp() - 200 * 86400
    )  # the backend's clock: its retention counts from its pinned date
    ok(
        post_turns(
            srv,
            [
                {"at": old, "channel": "web", "conversation": "t-old", "question": "两百天前的问题"},
                {
                    "at": old + 150 * 86400,
                    "channel": "web",
                    "conversation": "t-50",
                    "question": "五十天前的问题",
                },
            ],
        )
    )
    r = srv.cli("purge")
    assert r.returncode == 0 and "'turns_deleted': 1" in r.stdout, r.stdout + r.stderr
    with srv.staff("school-admin") as c:
        text = c.get("/api/staff/insights/turns.csv", params={"days": 180}).text
    assert "两百天前的问题" not in text and "五十天前的问题" in text
    r = srv.cli("purge", extra_env={"TURN_LOG_RETENTION_DAYS": "30"})
    assert "'turns_deleted': 1" in r.stdout and "'retention_days': 30" in r.stdout, r.stdout

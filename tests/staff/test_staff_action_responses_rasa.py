"""Texts of the custom actions are responses with variables (issue 11 §3, issue 14 §1): staff edit them like
any answer, the edit reaches the student on the next turn with the variables filled from the action's data,
and with the backend down the domain's wording comes back, filled the same way. Real backend, action server
and `rasa run`."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from system import ROOT, System, say

pytestmark = pytest.mark.slow

COMPARE = "utter_compare_forms"
ASK_COMPARE = "改签申请和毕业去向修改有什么区别"
STATUS = "utter_status"


def reply(system, text, token=None):
    return "\n".join(
        m.get("text") or "" for m in say(system.rest_webhook, f"act-{uuid.uuid4().hex[:8]}", text, token)
    )


def staff(system):
    r = httpx.post(
        f"{system.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, trust_env=False
    )
    return httpx.Client(
        base_url=system.backend_url,
        headers={"Authorization": f"Bearer {r.json()['access_token']}"},
        trust_env=False,
        timeout=30,
    )


def edit(c, key, text):
    cur = c.get(f"/api/staff/answers/{key}").json()
    r = c.put(
        f"/api/staff/answers/{key}", json={"base_version": cur["version"], "variations": [{"text": text}]}
    )
    assert r.status_code == 200, r.text
    return cur["version"]


def roll_back(c, key, version):
    v = c.get(f"/api/staff/answers/{key}").json()["version"]
    r = c.post(f"/api/staff/answers/{key}/rollback", json={"version": version, "base_version": v})
    assert r.status_code == 200, r.text


def until(check, seconds):
    t0 = time.monotonic()
    while True:
        out = check()
        if out:
            return out
        assert time.monotonic() - t0 < seconds, f"not within {seconds} s"
        time.sleep(0.1)


def test_action_response_edit_is_live_with_its_variables_and_falls_back_to_the_domain(system, login):
    tag = f"【测试{uuid.uuid4().hex[:6]}】"
    with staff(system) as c:
        view = c.get(f"/api/staff/answers/{STATUS}").json()
        assert {"name", "lines"} <= set(view["variables"])  # offered to the editor
        # a variable the action does not fill is refused, so a student never sees a raw {brace}
        r = c.put(
            f"/api/staff/answers/{STATUS}",
            json={"base_version": view["version"], "variations": [{"text": "{name}{学号}"}]},
        )
        assert r.status_code == 422 and r.json()["fields"][0]["code"] == "unknown_variable", r.text

        before = reply(system, ASK_COMPARE)
        assert before.startswith("区别如下：\n· 改签申请（单位变更）：") and "{items}" not in before, before
        v_compare = edit(c, COMPARE, tag + "两张表：\n{items}")
        v_status = edit(c, STATUS, tag + "{name}同学的进度：\n{lines}")
        try:
            # anonymous, no backend data: the items the action computed go into the staff's wording
            out = until(lambda: (lambda t: t if tag in t else None)(reply(system, ASK_COMPARE)), 3)
            assert (
                out.startswith(tag + "两张表：\n· 改签申请（单位变更）：")
                and "· 毕业去向修改（单位不变）：" in out
            ), out
            assert "怎么选" not in out and "{" not in out
            # signed in: the name and the progress lines come from the student's own records
            out = until(
                lambda: (lambda t: t if tag in t else None)(
                    reply(system, "查一下我的办理进度", login("2025000003"))
                ),
                3,
            )
            assert tag + "王强同学的进度：\n· 毕业去向登记：" in out, out
            assert "组织机构代码与单位名称不一致" in out and "你的办理进度如下" not in out

            # Rasa's NLG request to the backend (used when Rasa has no fresh copy): the call's arguments fill
            # the edited text the same way
            key = {"X-Integration-Key": system.child_env()["INTEGRATION_KEY"]}  # Rasa's key (issue 21 §9)
            r = httpx.post(
                f"{system.backend_url}/api/nlg",
                trust_env=False,
                headers=key,
                json={
                    "response": COMPARE,
                    "arguments": {"items": "· 甲10[2]\n· 乙", "template": COMPARE},
                    "tracker": {"sender_id": "x", "slots": {}},
                    "channel": {"name": "rest"},
                },
            )
            assert r.status_code == 200 and r.json()["text"] == tag + "两张表：\n· 甲10[2]\n· 乙", r.text

            system.stop_one("backend")
            try:
                time.sleep(1)  # the poll notices within poll_seconds
                out = reply(system, ASK_COMPARE)  # compare needs no backend: the domain's wording, filled
                assert out.startswith("区别如下：\n· 改签申请（单位变更）：") and "怎么选" in out, out
                assert tag not in out and "{" not in out
                # a personal question gets the domain's "unavailable" response
                out = reply(system, "查一下我的办理进度", login("2025000003"))
                assert out == "个人查询功能暂时不可用，请稍后再试；常见问题仍可以问我。", out
            finally:
                system.start_backend()
        finally:
            roll_back(c, COMPARE, v_compare)
            roll_back(c, STATUS, v_status)
    until(
        lambda: (lambda t: t if tag not in t and t.startswith("区别如下") else None)(
            reply(system, ASK_COMPARE)
        ),
        8,
    )


def test_a_students_answer_with_brackets_is_filled_into_the_response(system, login):
    """Rasa's filling returns the template unfilled when the FILLED text contains "0[" (its check for an
    escaped {{placeholder}}), so "10[2]班" typed into a form showed "好的，{label}已改为：{value}。"
    (bot/nlg.FilledNLG)."""
    token, sender = login("2025000001"), f"act-{uuid.uuid4().hex[:8]}"

    def turn(text):
        return "\n".join(m.get("text") or "" for m in say(system.rest_webhook, sender, text, token))

    # the form opens (at 政治面貌, or where an earlier test of the session left this student's profile)
    opened = turn("帮我填个人信息")
    assert "个人信息完善" in opened and "？" in opened, opened
    out = turn("班级改成10[2]班")
    assert "好的，班级已改为：10[2]班。" in out and "{" not in out, out
    turn("先不填了")


def test_without_a_copy_rasa_asks_the_backend_with_the_actions_arguments(system, tmp_path):
    """A second `rasa run` (same backend and action server) that keeps no copy of the answers (poll_seconds:
    0): every response is Rasa's NLG request to POST /api/nlg, whose `arguments` carry the action's
    variables."""
    endpoints = (
        (ROOT / "bot" / "endpoints.yml")
        .read_text(encoding="utf-8")
        .replace("poll_seconds: 0.5", "poll_seconds: 0")
    )
    assert "poll_seconds: 0\n" in endpoints
    (tmp_path / "endpoints.yml").write_text(endpoints, encoding="utf-8")
    second = System(
        backend_port=system.backend_port,
        actions_port=system.actions_port,
        database_url=system.database_url,
        log_dir=tmp_path,
        env={"TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}"},
    )
    tag = f"【远程{uuid.uuid4().hex[:6]}】"
    with staff(system) as c:
        version = edit(c, COMPARE, tag + "{items}")
        try:
            second.start_rasa(endpoints=str(tmp_path / "endpoints.yml"))
            out = "\n".join(m.get("text") or "" for m in say(second.rest_webhook, "remote-nlg", ASK_COMPARE))
            assert out.startswith(tag + "· 改签申请（单位变更）：") and "{" not in out, out
        finally:
            second.stop()
            roll_back(c, COMPARE, version)


def test_a_signed_in_general_question_gets_the_edited_faq_answer_then_the_own_case(system, login):
    """ "被驳回了怎么改" signed in: action_check_status repeats the FAQ answer (faq/rejected) before the
    student's own progress; a staff edit of that answer shows there too (it used to repeat the model's
    text)."""
    key, tag = "utter_faq/rejected", f"【测试{uuid.uuid4().hex[:6]}】"
    with staff(system) as c:
        version = edit(c, key, tag + "按驳回原因改好后重新提交。登录后问我“我的进度”可以看到原因。")
        try:
            out = until(
                lambda: (lambda t: t if tag in t else None)(
                    reply(system, "被驳回了怎么改", login("2025000003"))
                ),
                3,
            )
            assert out.startswith(tag + "按驳回原因改好后重新提交。\n王强，你的办理进度如下"), out
            assert "登录" not in out and "依据" not in out and "组织机构代码与单位名称不一致" in out
        finally:
            roll_back(c, key, version)

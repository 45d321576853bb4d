"""Every turn of the real `rasa run` reaches the staff turn log (issue 14 §3) through bot/turnlog.py (an event
broker in bot/endpoints.yml): intent, confidence, answer key, fallback, hand-off, the student id only when
signed in, never the token, and no form answers."""

from __future__ import annotations

import csv
import io
import time
import uuid

import httpx
import pytest

from system import say

pytestmark = pytest.mark.slow


def staff(system, staff_id="school-admin"):
    r = httpx.post(f"{system.backend_url}/api/auth/dev-login", json={"staff_id": staff_id}, trust_env=False)
    return httpx.Client(
        base_url=system.backend_url,
        headers={"Authorization": f"Bearer {r.json()['access_token']}"},
        trust_env=False,
        timeout=30,
    )


def wait_for(c, pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        r = c.get("/api/staff/insights/turns.csv", params={"days": 1})
        assert r.status_code == 200, r.text
        if pred(r.text) or time.monotonic() > deadline:
            return r.text
        time.sleep(0.5)


def test_turns_are_logged_for_staff(system, login):
    # letters only: six digits in a row would be masked (an ID-like number) and the tag lost
    tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:6])
    anon = f"tl-{tag}"
    token = login("2025000003")
    say(system.rest_webhook, anon, "学校平台怎么登录")
    say(system.rest_webhook, anon, f"火星上的食堂几点开门{tag}")
    say(system.rest_webhook, anon, "转人工")
    say(system.rest_webhook, f"tls-{tag}", "我的毕业去向审核到哪一步了", token)
    say(system.rest_webhook, f"tls-{tag}", "帮我填写个人信息", token)
    say(system.rest_webhook, f"tls-{tag}", "13812345678", token)  # a form answer: personal data
    say(system.rest_webhook, f"tls-{tag}", "先不填了", token)  # said inside the form: not kept either
    with staff(system) as c:
        text = wait_for(
            c, lambda t: t.count("（表单填写中的内容，不记录）") >= 2 and f"火星上的食堂几点开门{tag}" in t
        )
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        mine = [
            r
            for r in rows
            if r[3].startswith(("学校平台怎么登录", "火星", "转人工", "我的毕业去向", "帮我填写", "（表单"))
        ]
        by_q = {r[3]: r for r in reversed(mine)}  # the newest (rows come newest first; demo rows are older)
        login_row = by_q["学校平台怎么登录"]
        assert (
            login_row[4] == "faq"
            and login_row[6] == "utter_faq/login"
            and login_row[7] == ""
            and float(login_row[5]) > 0.5
            and login_row[1] == "web"
            and login_row[2] == ""
        )
        assert by_q[f"火星上的食堂几点开门{tag}"][7] == "是"  # unanswered
        assert by_q["转人工"][8] == "是" and by_q["转人工"][6] == "action_handoff"
        status = by_q["我的毕业去向审核到哪一步了"]
        assert status[2] == "2025000003" and status[6] == "action_check_status"
        assert "13812345678" not in text and "（表单填写中的内容，不记录）" in by_q
        assert "eyJ" not in text  # no token anywhere
        ov = c.get("/api/staff/insights", params={"days": 1}).json()
        assert any(t["question"] == f"火星上的食堂几点开门{tag}" for t in ov["unanswered"])
        assert any(t["question"] == "转人工" for t in ov["handoffs"])
    # counselors: their college's students only (2025000003 is in automation), never anonymous turns
    with staff(system, "counselor-physics") as c:
        csv_text = c.get("/api/staff/insights/turns.csv", params={"days": 1}).text
        assert "我的毕业去向审核到哪一步了" not in csv_text and f"火星上的食堂几点开门{tag}" not in csv_text
    with staff(system, "counselor-automation") as c:
        csv_text = c.get("/api/staff/insights/turns.csv", params={"days": 1}).text
        assert "我的毕业去向审核到哪一步了" in csv_text and f"火星上的食堂几点开门{tag}" not in csv_text

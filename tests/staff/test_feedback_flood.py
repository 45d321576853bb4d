"""Anonymous 👍/👎 floods (issue 14 leftover): the attack over HTTP against two real backend processes sharing one
database. At most FEEDBACK_PER_CONVERSATION (10) new rows per conversation and FEEDBACK_ANONYMOUS (120) anonymous
rows overall per minute; the rest get 429 `too_many_feedback` with a Chinese message and Retry-After, and nothing
of them is stored. Signed-in students are not held up by the anonymous limit."""
from __future__ import annotations

import csv
import io
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.backend.helpers import start_backend, stop_backend

ANSWER = "打开北京理工大学就业信息网（job.bit.edu.cn），点击“统一身份认证”，输入本人学号和密码登录，然后进入“手续办理”。"


def body(conversation: str, **kw) -> dict:
    return {"channel": "web", "conversation": conversation, "message_id": uuid.uuid4().hex[:12],
            "question": "洪水测试", "answer": ANSWER, "rating": "down", "reason": "没有帮助",
            "comment": "flood", **kw}


def flood(bases: list[str], bodies: list[dict]) -> list[httpx.Response]:
    """All bodies at once, spread over the backends (8 connections in parallel)."""
    clients = [httpx.Client(base_url=b, trust_env=False, timeout=60) for b in bases]
    try:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda ib: clients[ib[0] % len(clients)].post("/api/feedback", json=ib[1]),
                                 enumerate(bodies)))
    finally:
        for c in clients:
            c.close()


def stored(srv, comment: str = "flood") -> list[dict]:
    """The feedback rows the staff page exports with this comment."""
    with srv.staff("school-admin") as c:
        r = c.get("/api/staff/insights/feedback.csv", params={"days": 1})
    assert r.status_code == 200, r.text
    return [row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))) if row["补充说明"] == comment]


def check_refused(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    b = r.json()
    assert b["code"] == "too_many_feedback" and "太频繁" in b["message"], b
    assert 1 <= int(r.headers["Retry-After"]) <= 61


def test_a_feedback_flood_is_limited_across_two_backend_processes(srv, tmp_path):
    second = start_backend(srv.db_url, tmp_path, seed=False)  # a second process on the same database
    try:
        bases = [srv.base, second.base]
        # one conversation: 30 votes on 30 different answers at once -> 10 stored
        conv = "web-" + uuid.uuid4().hex[:8]
        bodies = [body(conv) for _ in range(30)]
        res = flood(bases, bodies)
        assert sorted(r.status_code for r in res) == [200] * 10 + [429] * 20, [r.text for r in res][:3]
        for r in res:
            if r.status_code == 429:
                check_refused(r)
        assert len(stored(srv)) == 10
        # changing one's vote on an answer already rated is no new row: accepted; a new answer still refused
        rated = next(b for b, r in zip(bodies, res) if r.status_code == 200)
        again = flood(bases, [{**rated, "rating": "up", "reason": None}, body(conv)])
        assert again[0].status_code == 200 and again[0].json()["rating"] == "up", again[0].text
        check_refused(again[1])

        # many conversations (the attacker makes up a new id each time): 120 anonymous rows a minute overall
        res = flood(bases, [body("web-" + uuid.uuid4().hex[:8]) for _ in range(150)])
        codes = [r.status_code for r in res]
        assert codes.count(200) == 110 and codes.count(429) == 40, codes
        for r in res:
            if r.status_code == 429:
                check_refused(r)
        assert len(stored(srv)) == 120  # the staff page shows what was accepted, nothing more

        # a signed-in student's feedback is not anonymous: still accepted (from the second process too)
        tok = srv.token(student_id="2025000001")
        r = httpx.post(f"{second.base}/api/feedback", json=body("web-" + uuid.uuid4().hex[:8], comment="登录后"),
                       headers={"Authorization": f"Bearer {tok}"}, trust_env=False, timeout=30)
        assert r.status_code == 200, r.text
        assert [f["学号"] for f in stored(srv, "登录后")] == ["2025000001"]
    finally:
        stop_backend(second)

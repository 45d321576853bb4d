"""Feedback floods and overwrites (issue 14 leftover, issue 21 §5): the attacks over HTTP against real backend
processes sharing one database. New rows per minute: a signed-in student FEEDBACK_PER_PRINCIPAL (10), an
anonymous address FEEDBACK_PER_CLIENT (20) whatever conversation ids it makes up or X-Forwarded-For it
writes, all anonymous ones FEEDBACK_ANONYMOUS (120); the rest get 429 `too_many_feedback` with a Chinese
message and Retry-After, and nothing of them is stored. A vote is changed only by whoever gave it: an
anonymous POST naming a student's conversation and answer never touches the student's row."""

from __future__ import annotations

import csv
import io
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.backend.helpers import database_urls, err, start_backend, stop_backend

ANSWER = (
    "打开北京理工大学就业信息网（job.bit.edu.cn），点击“统一身份认证”，输入本人学号和密码登录，"
    "然后进入“手续办理”。"
)


def body(conversation: str, **kw) -> dict:
    return {
        "channel": "web",
        "conversation": conversation,
        "message_id": uuid.uuid4().hex[:12],
        "question": "洪水测试",
        "answer": ANSWER,
        "rating": "down",
        "reason": "没有帮助",
        "comment": "flood",
        **kw,
    }


def flood(bases: list[str], bodies: list[dict], headers: list[dict] | None = None) -> list[httpx.Response]:
    """All bodies at once, spread over the backends (8 connections in parallel); `headers[i]` with body i."""
    clients = [httpx.Client(base_url=b, trust_env=False, timeout=60) for b in bases]
    heads = headers or [{} for _ in bodies]
    try:
        with ThreadPoolExecutor(8) as pool:
            return list(
                pool.map(
                    lambda i: clients[i % len(clients)].post(
                        "/api/feedback", json=bodies[i], headers=heads[i]
                    ),
                    range(len(bodies)),
                )
            )
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


def xff(i: int) -> dict:
    return {"X-Forwarded-For": f"198.51.100.{i % 250}"}


def test_one_client_cannot_flood_by_rotating_conversations(srv, tmp_path):
    second = start_backend(srv.db_url, tmp_path, seed=False)  # a second process on the same database
    try:
        bases = [srv.base, second.base]
        # the review: a new conversation id per vote (25 rows in 1 s); also a made-up X-Forwarded-For each
        # time, which these backends do not believe (no trusted proxy): one address, 20 rows a minute
        bodies = [body("web-" + uuid.uuid4().hex[:8]) for _ in range(30)]
        res = flood(bases, bodies, [xff(i) for i in range(30)])
        assert sorted(r.status_code for r in res) == [200] * 20 + [429] * 10, [r.text for r in res][:3]
        for r in res:
            if r.status_code == 429:
                check_refused(r)
        assert len(stored(srv)) == 20
        # changing one's vote on an answer already rated is no new row: accepted; a new answer still refused
        rated = next(b for b, r in zip(bodies, res, strict=True) if r.status_code == 200)
        again = flood(bases, [{**rated, "rating": "up", "reason": None}, body("web-x")])
        assert again[0].status_code == 200 and again[0].json()["rating"] == "up", again[0].text
        check_refused(again[1])
        # a signed-in student is limited as a student, not by the anonymous visitors of their address
        tok = srv.token(student_id="2025000001")
        codes = [
            r.status_code
            for r in flood(
                bases,
                [body("web-s", comment="登录后") for _ in range(12)],
                [{"Authorization": f"Bearer {tok}"}] * 12,
            )
        ]
        assert sorted(codes) == [200] * 10 + [429] * 2, codes
        assert [f["学号"] for f in stored(srv, "登录后")] == ["2025000001"] * 10
    finally:
        stop_backend(second)


def behind_proxy(srv, tmp_path, fresh: bool = False):
    """A backend behind the proxy (TRUSTED_PROXIES: here loopback), which believes its X-Forwarded-For; on the
    same database, or on a fresh one of the same kind (`fresh`: no other test's rows in the minute)."""
    env = {"TRUSTED_PROXIES": "127.0.0.1"}
    if not fresh:
        return start_backend(srv.db_url, tmp_path, seed=False, extra_env=env), lambda: None
    db_url, drop = database_urls(tmp_path, "sqlite" if srv.db_url.startswith("sqlite") else "postgres")
    return start_backend(db_url, tmp_path, extra_env=env), drop


def test_many_addresses_behind_the_proxy_share_the_anonymous_cap(srv, tmp_path):
    proxied, drop = behind_proxy(srv, tmp_path, fresh=True)
    try:
        # one address through the proxy: 20 a minute
        res = flood(
            [proxied.base],
            [body("web-" + uuid.uuid4().hex[:8]) for _ in range(25)],
            [{"X-Forwarded-For": "203.0.113.9"}] * 25,
        )
        assert sorted(r.status_code for r in res) == [200] * 20 + [429] * 5
        # 150 more from 150 addresses: all anonymous ones together 120 a minute, so 100 more
        res = flood(
            [proxied.base],
            [body("web-" + uuid.uuid4().hex[:8]) for _ in range(150)],
            [xff(i) for i in range(150)],
        )
        codes = [r.status_code for r in res]
        assert codes.count(200) == 100 and codes.count(429) == 50, codes
        for r in res:
            if r.status_code == 429:
                check_refused(r)
        assert len(stored(proxied)) == 120  # the staff page shows what was accepted, nothing more
    finally:
        stop_backend(proxied)
        drop()


def test_an_anonymous_post_never_overwrites_a_students_vote(srv, tmp_path):
    tok = srv.token(student_id="2025000002")
    mine = body("web-stu", comment="本人", rating="down", reason="内容缺失", message_id="m-owned-1")
    r = httpx.post(
        f"{srv.base}/api/feedback",
        json=mine,
        headers={"Authorization": f"Bearer {tok}"},
        trust_env=False,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    # the review: an anonymous POST with the student's conversation and message id turned 👎 into 👍 and
    # removed their student id. Whatever conversation the attacker names (the widget's, the stored key), from
    # an address no limit holds up yet: accepted as the attacker's own anonymous vote, the student's row
    # untouched.
    proxied, _ = behind_proxy(srv, tmp_path)
    try:
        for conv in ("web-stu", "student:2025000002", "anon:web-stu"):
            attack = {**mine, "conversation": conv, "rating": "up", "reason": None, "comment": "攻击"}
            res = httpx.post(
                f"{proxied.base}/api/feedback",
                json=attack,
                trust_env=False,
                timeout=30,
                headers={"X-Forwarded-For": "192.0.2.50"},
            )
            assert res.status_code == 200, res.text
    finally:
        stop_backend(proxied)
    rows = stored(srv, "本人")
    assert [(f["学号"], f["评价"], f["原因"]) for f in rows] == [("2025000002", "👎", "内容缺失")], rows
    assert [f["学号"] for f in stored(srv, "攻击")] == ["", "", ""]
    # the student changes their own vote: fine
    r = httpx.post(
        f"{srv.base}/api/feedback",
        json={**mine, "rating": "up", "reason": None},
        headers={"Authorization": f"Bearer {tok}"},
        trust_env=False,
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["rating"] == "up", r.text


def test_an_anonymous_vote_is_changed_only_from_its_address(srv, tmp_path):
    proxied, _ = behind_proxy(srv, tmp_path)
    try:
        mine = body("web-anon-" + uuid.uuid4().hex[:6], comment="匿名本人", message_id="m-anon-1")
        with httpx.Client(base_url=proxied.base, trust_env=False, timeout=30) as c:
            assert (
                c.post("/api/feedback", json=mine, headers={"X-Forwarded-For": "192.0.2.10"}).status_code
                == 200
            )
            other = c.post(
                "/api/feedback",
                json={**mine, "rating": "up", "reason": None},
                headers={"X-Forwarded-For": "192.0.2.11"},
            )
            err(other, 409, "not_yours")
            same = c.post(
                "/api/feedback",
                json={**mine, "rating": "up", "reason": None},
                headers={"X-Forwarded-For": "192.0.2.10"},
            )
            assert same.status_code == 200 and same.json()["rating"] == "up", same.text
    finally:
        stop_backend(proxied)

"""A person in the chat in the distributed topology (issue 15 §2, §5): nginx round robin over two Rasa
servers, the backend with two workers (two delivery threads), Redis channel state, PostgreSQL. The student's
messages alternate between the servers: every one after 转人工 is held (none reaches the bot) until the
counselor closes; the counselor's WeChat replies go out once each; a Rasa server restarted mid-handoff keeps
the conversation held. Runs on tests/cluster's cluster (the package's `cluster` fixture, conftest.py): needs
redis-server, nginx and TEST_POSTGRES_URL, skipped without them locally, required in CI
(REQUIRE_CLUSTER=1)."""

from __future__ import annotations

import json
import time
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.channels.channels_harness import signed_query, text_xml

pytestmark = pytest.mark.slow
WECHAT_TOKEN = "demo-wechat-token"


def turn(cluster, sender: str, text: str) -> tuple[list[dict], str]:
    r = httpx.post(
        cluster.rest_webhook,
        json={"sender": sender, "message": text, "metadata": {}},
        timeout=60,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return r.json(), (r.headers.get("x-upstream") or "").split(",")[-1].strip()


def user_texts(cluster, sender_id: str) -> list[str]:
    import psycopg

    url = cluster.sys.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as c:
        rows = c.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender_id,)).fetchall()
    return [e["text"] for e in (json.loads(d) for (d,) in rows) if e["event"] == "user"]


def staff(cluster) -> httpx.Client:
    tok = httpx.post(
        f"{cluster.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, trust_env=False
    ).json()["access_token"]
    return httpx.Client(
        base_url=cluster.backend_url, headers={"Authorization": f"Bearer {tok}"}, trust_env=False, timeout=30
    )


def session_for(c: httpx.Client, text: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for s in c.get("/api/staff/handoff").json()["sessions"]:
            if s["last_student_text"] == text:
                return s
        time.sleep(0.2)
    raise AssertionError(f"no session with {text!r}")


def test_every_message_is_held_whichever_server_it_reaches(cluster):
    sender = "web-" + uuid.uuid4().hex[:12]
    out, first = turn(cluster, sender, "转人工")
    assert any("handoff" in (m.get("custom") or {}) for m in out)
    servers = {first}
    for i in range(2):  # queued, right away on both servers: stored for the counselor AND answered by the bot
        out, upstream = turn(cluster, sender, f"排队{i + 1}：档案寄到哪里了")
        servers.add(upstream)
        assert any(m.get("text") for m in out), out
    with staff(cluster) as c:
        s = session_for(c, "排队2：档案寄到哪里了")
        assert c.post(f"/api/staff/handoff/{s['id']}/take").status_code == 200
    for i in range(6):  # a person holds it: round robin, half of these reach the other server
        out, upstream = turn(cluster, sender, f"第{i + 1}条：我的档案寄到哪里了")
        servers.add(upstream)
        assert not any(m.get("text") for m in out), out  # the bot is silent
    assert len(servers) == 2, servers
    said = user_texts(cluster, f"anon:{sender}")
    assert (
        "转人工" in said and "排队2：档案寄到哪里了" in said and not [t for t in said if t.startswith("第")]
    ), said
    with staff(cluster) as c:
        detail = c.get(f"/api/staff/handoff/{s['id']}").json()
        assert [m["text"] for m in detail["messages"] if m["sender"] == "student"] == (
            ["排队1：档案寄到哪里了", "排队2：档案寄到哪里了"]
            + [f"第{i + 1}条：我的档案寄到哪里了" for i in range(6)]
        )
        assert c.post(f"/api/staff/handoff/{s['id']}/close").status_code == 200
    for _ in range(2):  # both servers let the bot answer again
        out, _ = turn(cluster, sender, "档案邮寄怎么申请")
        assert "邮寄" in out[0]["text"] and "老师" not in out[0]["text"][:6]


def wechat(cluster, openid: str, text: str) -> str | None:
    r = httpx.post(
        cluster.wechat_webhook,
        params=signed_query(token=WECHAT_TOKEN),
        content=text_xml(openid, text).encode(),
        timeout=30,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return None if r.text == "success" else ET.fromstring(r.text).findtext("Content")


def test_wechat_replies_go_out_once_with_two_backend_workers_and_a_rasa_restart(cluster):
    openid = "o" + uuid.uuid4().hex[:27]
    assert "转接人工服务" in wechat(cluster, openid, "转人工")
    assert wechat(cluster, openid, "请问能帮我看看户档信息吗")  # queued: stored, and the bot answers
    with staff(cluster) as c:
        s = session_for(c, "请问能帮我看看户档信息吗")
        assert c.post(f"/api/staff/handoff/{s['id']}/take").status_code == 200
        cluster.restart_rasa(0)  # one server restarts while a person holds the conversation
        for i in range(4):
            assert wechat(cluster, openid, f"补充{i + 1}") is None  # held on both servers: no bot answer
        for i in range(3):
            assert (
                c.post(f"/api/staff/handoff/{s['id']}/reply", json={"text": f"回复{i + 1}"}).status_code
                == 200
            )
        got = cluster.wx.wait_sent(openid, 4)
        time.sleep(2.0)  # both workers went round several times more
        texts = [m["text"]["content"] for m in cluster.wx.sent if m.get("touser") == openid]
        assert len(texts) == 4 and "已接入" in texts[0], texts
        assert [t.split("】")[-1] for t in texts[1:]] == ["回复1", "回复2", "回复3"], got
        detail = c.get(f"/api/staff/handoff/{s['id']}").json()
        assert [m["text"] for m in detail["messages"] if m["sender"] == "student"] == [
            "请问能帮我看看户档信息吗",
            "补充1",
            "补充2",
            "补充3",
            "补充4",
        ]
        assert c.post(f"/api/staff/handoff/{s['id']}/close").status_code == 200
    said = user_texts(cluster, f"wechat:{openid}")
    assert not [t for t in said if t.startswith("补充")], said
    reply = wechat(cluster, openid, "档案邮寄怎么申请")
    assert reply and "邮寄" in reply

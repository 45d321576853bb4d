"""Issue 21 §2: one bad message must not drop other students' turns. The turn ingestion of the real backend
(SQLite and PostgreSQL) takes each turn on its own: NUL (raw or as the JSON escape), the six characters
`\\u0000` typed as text, lone surrogates are cleaned; a turn off the contract is counted as rejected; the
others are stored."""

from __future__ import annotations

import json
import time
import uuid

from tests.backend.helpers import INTEGRATION_KEY, ok


def _turn(tag: str, question: str, **kw) -> dict:
    return {
        "at": time.time(),
        "channel": "web",
        "conversation": f"bad-{tag}",
        "question": question,
        "intent": "faq",
        "confidence": 0.3,
        "answer_key": "utter_faq/login",
        **kw,
    }


def _questions(srv, tag: str) -> list[str]:
    with srv.staff("school-admin") as c:
        r = c.get("/api/staff/insights/turns.csv", params={"days": 1})
        assert r.status_code == 200, r.text
        return [line for line in r.text.splitlines() if tag in line]


def test_one_bad_turn_never_drops_the_batch(srv):
    # letters only: six digits in a row would be masked (an ID-like number) and the tag lost
    tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])
    turns = [
        _turn(tag, f"第一位同学的问题{tag}"),
        _turn(tag, f"带NUL\x00的问题{tag}"),  # a real NUL (JSON escape \\u0000)
        _turn(tag, f"六个字符\\u0000的问题{tag}"),  # the six characters typed as text
        _turn(tag, f"孤立代理项\ud800的问题{tag}"),  # a lone surrogate
        _turn(tag, f"置信度越界{tag}", confidence=7),  # off the contract: rejected alone
        _turn(tag, f"第二位同学的问题{tag}", intent="\x00faq"),
    ]
    body = json.dumps({"turns": turns}).encode()  # ASCII JSON: \\u0000 and \\ud800 escapes
    assert b"\\u0000" in body and b"\\ud800" in body
    r = srv.client().post(
        "/api/integration/turns",
        content=body,
        headers={"X-Integration-Key": INTEGRATION_KEY, "Content-Type": "application/json"},
    )
    out = ok(r)
    assert out["stored"] == 5 and out["rejected"] == 1, out
    assert out["errors"] == [{"index": 4, "fields": ["confidence"]}]
    rows = "\n".join(_questions(srv, tag))
    for q in (
        f"第一位同学的问题{tag}",
        f"带NUL的问题{tag}",
        f"六个字符\\u0000的问题{tag}",
        f"孤立代理项的问题{tag}",
        f"第二位同学的问题{tag}",
    ):
        assert q in rows, (q, rows)
    assert f"置信度越界{tag}" not in rows and "\x00" not in rows

    # a raw NUL byte in the body (not valid JSON text, but what a broken client sends): the same
    raw = json.dumps({"turns": [_turn(tag, f"原始字节{tag}")]}, ensure_ascii=False).encode()
    raw = raw.replace("原始字节".encode(), "原始\\u0000字节".encode())
    out = ok(
        srv.client().post(
            "/api/integration/turns",
            content=raw,
            headers={"X-Integration-Key": INTEGRATION_KEY, "Content-Type": "application/json"},
        )
    )
    assert out["stored"] == 1 and f"原始字节{tag}" in "\n".join(_questions(srv, tag))


def test_elsewhere_only_a_real_nul_is_refused(srv):
    """The body guard of every other route tells a JSON-escaped NUL (422 nul_character) from the six
    characters `\\u0000` typed as text (ordinary text: the route itself decides)."""
    c = srv.client()
    h = {"Content-Type": "application/json"}
    r = c.post("/api/validation/profile", content=json.dumps({"wechat": "a\x00b"}).encode(), headers=h)
    assert r.status_code == 422 and r.json()["fields"][0]["code"] == "nul_character", r.text
    r = c.post("/api/validation/profile", content=json.dumps({"wechat": "a\\u0000b"}).encode(), headers=h)
    assert r.status_code == 200, r.text

"""WeChat binding codes (backend): 8 characters of Crockford base32 (40 bits), shown as XXXX-XXXX, accepted in
either case with or without the hyphen or spaces (I/L read as 1, O as 0); unique (a database constraint,
retried on collision); a new code voids the student's older ones; single use, enforced in the database (of
openids racing for one code exactly one wins); 10-minute expiry; failed guesses limited per openid and
overall in the database (429 too_many_attempts with a Chinese message saying when to retry); issuing limited
per student."""

from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.backend.helpers import (
    BASE_TODAY,
    INTEGRATION_KEY,
    database_urls,
    err,
    new_student,
    ok,
    start_backend,
    stop_backend,
)

KEY = {"X-Integration-Key": INTEGRATION_KEY}
CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
BIND = "/api/integration/wechat/bind"


def issue(srv, sid: str) -> str:
    with srv.student(sid) as c:
        out = ok(c.post("/api/me/wechat/bind-code"))
    assert CODE_RE.match(out["code"]), out
    return out["code"]


def bind(srv, openid: str, code: str) -> httpx.Response:
    return srv.http.post(BIND, json={"openid": openid, "code": code}, headers=KEY)


def bound_openids(srv, sid: str) -> list[str]:
    with srv.staff("school-admin") as s:
        items = ok(s.get("/api/staff/audit", params={"student_id": sid, "limit": 1000}))["items"]
    return [a["entity_id"] for a in items if a["entity"] == "wechat" and a["action"] == "bind"]


def test_code_format_and_typing_variants(srv):
    sid = new_student(srv)
    code = issue(srv, sid)
    with srv.student(sid) as c:
        exp = ok(c.post("/api/me/wechat/bind-code"))  # a second code; the first is void from now on
    raw = exp["code"].replace("-", "")
    # as typed on a phone: lower case, spaces, no hyphen, I/L for 1 and O for 0
    typed = " ".join([raw[:4], raw[4:]]).lower().replace("1", "l").replace("0", "o")
    e = err(bind(srv, f"o-old-{sid}", code), 422, "bind_code_voided")
    assert "新的绑定码" in e["message"]
    assert ok(bind(srv, f"o-{sid}", f"  {typed} "))["student_id"] == sid
    assert bound_openids(srv, sid) == [f"o-{sid}"]
    e = err(bind(srv, f"o-again-{sid}", exp["code"]), 422, "bind_code_used")  # single use
    assert "已使用" in e["message"]
    # a code in any accepted form, and the hyphenated upper-case form, are the same code
    sid2 = new_student(srv)
    code2 = issue(srv, sid2)
    assert ok(bind(srv, f"o-{sid2}", code2.replace("-", " - ").replace("1", "I")))["student_id"] == sid2


def test_expiry_and_malformed(srv):
    sid = new_student(srv)
    code = issue(srv, sid)
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))
    e = err(bind(srv, f"o-exp-{sid}", code), 422, "bind_code_expired")
    assert "10分钟" in e["message"]
    srv.set_today(BASE_TODAY)
    for bad in ("", "123456", "ABCD-EFG", "ABCDEFGHJ", "ABCD-EFGU", "绑定码"):
        e = err(bind(srv, f"o-bad-{sid}-{len(bad)}", bad), 422, "bind_code_invalid")
        assert "8位" in e["message"]


def test_issuing_is_limited_per_student(srv):
    sid = new_student(srv)
    for _ in range(5):
        issue(srv, sid)
    with srv.student(sid) as c:
        e = err(c.post("/api/me/wechat/bind-code"), 429, "too_many_codes")
        assert "分钟" in e["message"] and e["retry_after"] > 0
    issue(srv, new_student(srv))  # other students are not affected
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))
    issue(srv, sid)  # an hour later (here: a day) it works again


def test_two_students_codes_never_collide_and_each_binds_its_own(srv, db_kind, monkeypatch):
    """The review saw duplicate codes bind student 1's WeChat to student 2. Codes are unique in the database
    and each binds the student it was issued to."""
    sids = [new_student(srv) for _ in range(4)]
    codes = [issue(srv, s) for s in sids]
    assert len(set(codes)) == 4
    for sid, code in zip(sids, codes, strict=True):
        assert ok(bind(srv, f"o-col-{sid}", code))["student_id"] == sid
        assert bound_openids(srv, sid) == [f"o-col-{sid}"]
    # a forced collision: the generator returns a live code first; the database refuses it, the service
    # retries
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from backend import models as M
    from backend.core.auth import Principal
    from backend.core.db import make_engine
    from backend.services.wechat import codes as S

    engine = make_engine(srv.db_url)
    a, b = new_student(srv), new_student(srv)
    live = issue(srv, a)
    seq = iter(
        [live.replace("-", ""), live.replace("-", ""), "ZZZZ9999" if live != "ZZZZ-9999" else "YYYY9999"]
    )
    from backend.core import clock

    monkeypatch.setattr(clock, "now", srv.now)  # the backend's clock (its pinned date), not the wall clock
    orig = S._new_code
    S._new_code = lambda: next(seq)
    try:
        with Session(engine) as s:
            out = S.new_bind_code(s, Principal("student", b, "", None))
    finally:
        S._new_code = orig
    assert out["code"] != live
    assert ok(bind(srv, f"o-col-{b}", out["code"]))["student_id"] == b
    assert ok(bind(srv, f"o-col-{a}", live))["student_id"] == a
    with Session(engine) as s:  # and a duplicate row cannot be written at all
        s.add(
            M.WechatBindCode(
                code=live.replace("-", ""),
                student_id=b,
                created_at=dt.datetime.now(dt.timezone.utc),
                expires_at=dt.datetime.now(dt.timezone.utc),
            )
        )
        with pytest.raises(IntegrityError):
            s.flush()
    engine.dispose()


def test_openids_racing_for_one_code_exactly_one_wins(srv):
    n, rounds = 20, 50
    local = threading.local()

    def client() -> httpx.Client:
        if getattr(local, "c", None) is None:
            local.c = httpx.Client(base_url=srv.base, timeout=120, trust_env=False)
        return local.c

    with ThreadPoolExecutor(n) as pool:
        for rnd in range(rounds):
            sid = new_student(srv, profile=False)
            code = issue(srv, sid)
            barrier = threading.Barrier(n)

            def one(i, code=code, barrier=barrier, rnd=rnd):
                barrier.wait(30)
                return client().post(BIND, json={"openid": f"o-race-{rnd}-{i}", "code": code}, headers=KEY)

            results = list(pool.map(one, range(n)))
            wins = [i for i, r in enumerate(results) if r.status_code == 200]
            assert len(wins) == 1, (rnd, [r.text for r in results])
            for r in results:
                if r.status_code != 200:
                    assert r.status_code == 422 and r.json()["code"] == "bind_code_used", r.text
            assert results[wins[0]].json()["student_id"] == sid
            assert bound_openids(srv, sid) == [f"o-race-{rnd}-{wins[0]}"]


@pytest.fixture
def own_server(db_kind, tmp_path):
    """A backend of its own: the overall limit this test reaches would lock binding for the shared one."""
    db_url, drop = database_urls(tmp_path, db_kind)
    srv = start_backend(db_url, tmp_path)
    yield srv
    stop_backend(srv)
    drop()


def test_brute_force_is_stopped(own_server):
    srv = own_server
    sid = new_student(srv)
    code = issue(srv, sid)
    guess = (f"{i:08d}" for i in range(10**8))
    # one openid, hundreds of guesses: 5 failures, then 429 for the rest of the window, the right code
    # included
    codes = [bind(srv, "o-attacker", next(guess)).json()["code"] for _ in range(300)]
    assert codes[:5] == ["bind_code_invalid"] * 5 and set(codes[5:]) == {"too_many_attempts"}
    e = err(bind(srv, "o-attacker", code), 429, "too_many_attempts")
    assert "分钟后再试" in e["message"] and 0 < e["retry_after"] <= 600
    # many openids, one guess each: the overall limit stops them too
    results = [bind(srv, f"o-rot-{i}", next(guess)) for i in range(400)]
    failed = sum(1 for r in results if r.status_code == 422)
    assert failed <= 200 and results[-1].status_code == 429, failed
    assert err(results[-1], 429, "too_many_attempts")["retry_after"] > 0
    assert bound_openids(srv, sid) == []  # nothing was bound by guessing
    # the limits live in the database: after the window, binding works again
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))
    code = issue(srv, sid)
    assert ok(bind(srv, "o-owner", code))["student_id"] == sid


def test_issuing_a_new_code_while_openids_bind_the_old_one(srv):
    """The student asks for a new code (voiding the old one) while openids send the old code: never a 500 (no
    deadlock between the two lock orders), at most one binding, and a binding only with a code that was
    live."""
    local = threading.local()

    def client() -> httpx.Client:
        if getattr(local, "c", None) is None:
            local.c = httpx.Client(base_url=srv.base, timeout=120, trust_env=False)
        return local.c

    with ThreadPoolExecutor(20) as pool:
        for rnd in range(20):
            sid = new_student(srv, profile=False)
            code = issue(srv, sid)
            token = srv.token(student_id=sid)
            barrier = threading.Barrier(20)

            def one(i, code=code, barrier=barrier, rnd=rnd, token=token):
                barrier.wait(30)
                if i % 5 == 4:  # four new codes
                    return client().post(
                        "/api/me/wechat/bind-code", headers={"Authorization": f"Bearer {token}"}
                    )
                return client().post(BIND, json={"openid": f"o-iv-{rnd}-{i}", "code": code}, headers=KEY)

            results = list(pool.map(one, range(20)))
            binds = [r for i, r in enumerate(results) if i % 5 != 4]
            assert all(r.status_code == 200 for i, r in enumerate(results) if i % 5 == 4), [
                r.text for r in results
            ]
            assert all(
                r.status_code == 200
                or (r.status_code == 422 and r.json()["code"] in ("bind_code_used", "bind_code_voided"))
                for r in binds
            ), [r.text for r in binds]
            won = [r for r in binds if r.status_code == 200]
            assert len(won) <= 1 and len(bound_openids(srv, sid)) == len(won)

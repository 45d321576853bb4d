"""Every state transition is conditional: of concurrent decisions on one record exactly one wins, the others
get 409 with a Chinese message, and a review carries the version the reviewer saw (a record changed since then
gets 409 stale_version). Real concurrency: 20 simultaneous HTTP requests per round against the one backend
process, 50+ rounds per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.backend.helpers import (
    ARCHIVE,
    BASE_TODAY,
    DESTINATION,
    eligible_student,
    err,
    new_student,
    ok,
    register_and_approve,
    staff_record,
)

N = 20  # simultaneous requests per round
ROUNDS = 50
STALE_MSG = "记录已更新，请刷新后再审核"

_local = threading.local()


def _client(srv) -> httpx.Client:
    c = getattr(_local, "c", None)
    if c is None or _local.base != srv.base:
        c = _local.c = httpx.Client(base_url=srv.base, timeout=120, trust_env=False)
        _local.base = srv.base
    return c


def fire(srv, pool: ThreadPoolExecutor, calls: list) -> list[httpx.Response]:
    """Send all calls at once: every thread waits at a barrier, then sends its request."""
    barrier = threading.Barrier(len(calls))

    def one(call):
        method, url, token, body = call
        c = _client(srv)
        barrier.wait(30)
        return c.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})

    return list(pool.map(one, calls))


def _losers_are_409(results: list[httpx.Response]) -> None:
    for r in results:
        if r.status_code != 200:
            assert r.status_code == 409, r.text
            body = r.json()
            assert body["code"] in ("wrong_state", "stale_version"), body
            assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body


def test_review_requires_the_version_seen(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        rid = ok(c.post("/api/me/destination/submit"))["id"]
    seen = staff_record(srv, "destination", rid, "counselor-physics")
    assert isinstance(seen["version"], int)
    url = f"/api/staff/records/destination/{rid}/review"
    with srv.staff("counselor-physics") as s:
        e = err(s.post(url, json={"approve": True}), 422, "validation_error")
        assert e["fields"][0]["field"] == "version" and "版本" in e["message"]
        # the student edits and resubmits after the counselor opened the record
        with srv.student(sid) as c:
            ok(c.put("/api/me/destination", json={"unit": {"contact_name": "吴刚"}}))
            ok(c.post("/api/me/destination/submit"))
        e = err(s.post(url, json={"approve": True, "version": seen["version"]}), 409, "stale_version")
        assert e["message"] == STALE_MSG
        fresh = staff_record(srv, "destination", rid, "counselor-physics")
        assert fresh["version"] > seen["version"] and fresh["unit"]["contact_name"] == "吴刚"
        assert (
            ok(s.post(url, json={"approve": True, "version": fresh["version"]}))["state"]
            == "college_approved"
        )


SCENARIOS = ["college_approve_vs_reject", "school_change_approve_vs_reject", "student_edit_vs_review"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_concurrent_decisions_exactly_one_wins(srv, scenario):
    """College approve-vs-reject on a destination; school approve-vs-reject on a change request (an approval
    applies the change: a losing approval must not); the student edits while the counselor approves."""
    admin, counselor = srv.token(staff_id="school-admin"), srv.token(staff_id="counselor-physics")
    kind = SCENARIOS.index(scenario)
    if kind == 1:
        approved = new_student(srv)
        register_and_approve(srv, approved)
    with ThreadPoolExecutor(N) as pool:
        for rnd in range(ROUNDS):
            if kind == 0:  # two decisions at the college level
                sid = new_student(srv, profile=False)
                with srv.student(sid) as c:
                    ok(c.put("/api/me/destination", json=DESTINATION))
                    rid = ok(c.post("/api/me/destination/submit"))["id"]
                v = staff_record(srv, "destination", rid, "counselor-physics")["version"]
                calls = [
                    (
                        "POST",
                        f"/api/staff/records/destination/{rid}/review",
                        counselor,
                        {"approve": i % 2 == 0, "reason": None if i % 2 == 0 else f"原因{i}", "version": v},
                    )
                    for i in range(N)
                ]
                results = fire(srv, pool, calls)
                wins = [(i, r) for i, r in enumerate(results) if r.status_code == 200]
                assert len(wins) == 1, (rnd, [r.text for r in results])
                _losers_are_409(results)
                final = staff_record(srv, "destination", rid, "counselor-physics")
                i = wins[0][0]
                assert final["state"] == ("college_approved" if i % 2 == 0 else "college_rejected")
                assert final["rejection_reason"] == (None if i % 2 == 0 else f"原因{i}")
                decisions = [
                    a
                    for a in audit(srv, sid)
                    if a["entity"] == "destination" and a["action"] in ("approve", "reject")
                ]
                assert len(decisions) == 1, decisions
            elif kind == 1:  # two decisions at the school level on a change request
                with srv.student(approved) as c:
                    before = ok(c.get("/api/me/archive"))["contact_name"]
                    cr = ok(
                        c.post(
                            "/api/me/change-requests",
                            json={"kind": "archive_edit", "changes": {"contact_name": f"刘老师{rnd}"}},
                        ),
                        201,
                    )
                v = staff_record(srv, "change", cr["id"], "counselor-physics")["version"]
                ok(
                    srv.staff("counselor-physics").post(
                        f"/api/staff/records/change/{cr['id']}/review", json={"approve": True, "version": v}
                    )
                )
                v = staff_record(srv, "change", cr["id"], "school-admin")["version"]
                calls = [
                    (
                        "POST",
                        f"/api/staff/records/change/{cr['id']}/review",
                        admin,
                        {"approve": i % 2 == 1, "reason": "材料不全", "version": v},
                    )
                    for i in range(N)
                ]
                results = fire(srv, pool, calls)
                wins = [i for i, r in enumerate(results) if r.status_code == 200]
                assert len(wins) == 1, (rnd, [r.text for r in results])
                _losers_are_409(results)
                with srv.student(approved) as c:
                    now = ok(c.get("/api/me/archive"))["contact_name"]
                final = staff_record(srv, "change", cr["id"], "school-admin")
                if wins[0] % 2 == 1:
                    assert final["state"] == "school_approved" and now == f"刘老师{rnd}"
                else:  # rejected: the change was not applied
                    assert final["state"] == "school_rejected" and now == before
            else:  # the student edits the archive (allowed until reviewed) while the counselor approves it
                sid = new_student(srv)
                tok = srv.token(student_id=sid)
                with srv.student(sid) as c:
                    ok(c.put("/api/me/destination", json=DESTINATION))
                    ok(c.put("/api/me/archive", json=ARCHIVE))
                    rid = ok(c.post("/api/me/archive/submit"))["id"]
                v = staff_record(srv, "archive", rid, "counselor-physics")["version"]
                calls = []
                for i in range(N):
                    if i % 2:
                        calls.append(("PUT", "/api/me/archive", tok, {"contact_name": f"赵老师{i}"}))
                    else:
                        calls.append(
                            (
                                "POST",
                                f"/api/staff/records/archive/{rid}/review",
                                counselor,
                                {"approve": True, "version": v},
                            )
                        )
                results = fire(srv, pool, calls)
                _losers_are_409(results)
                approvals = [r for i, r in enumerate(results) if i % 2 == 0 and r.status_code == 200]
                edits = [r for i, r in enumerate(results) if i % 2 and r.status_code == 200]
                final = staff_record(srv, "archive", rid, "counselor-physics")
                assert len(approvals) <= 1
                if approvals:  # the counselor approved exactly what they saw
                    assert not edits and final["contact_name"] == ARCHIVE["contact_name"], [
                        r.text for r in results
                    ]
                    assert final["state"] == "college_approved"
                else:  # an edit came first: it took the record back to "filled" (to resubmit), no approval
                    assert edits and final["state"] == "filled"
                    assert final["contact_name"] in {f"赵老师{i}" for i in range(1, N, 2)}


def test_ship_vs_cancel_exactly_one_wins(srv):
    admin = srv.token(staff_id="school-admin")
    with ThreadPoolExecutor(N) as pool:
        for rnd in range(ROUNDS):
            srv.set_today(BASE_TODAY)
            sid = eligible_student(srv)
            tok = srv.token(student_id=sid)
            mid = ok(srv.student(sid).post("/api/me/mailing"), 201)["request"]["id"]
            ems = [f"11{rnd:05d}{i:06d}" for i in range(N)]
            calls = [
                ("POST", "/api/me/mailing/cancel", tok, None)
                if i % 2
                else ("POST", f"/api/staff/mailing/{mid}/ship", admin, {"ems_no": ems[i]})
                for i in range(N)
            ]
            results = fire(srv, pool, calls)
            wins = [i for i, r in enumerate(results) if r.status_code == 200]
            assert len(wins) == 1, (rnd, [r.text for r in results])
            _losers_are_409(results)
            m = ok(srv.student(sid).get("/api/me/status"))["mailing"]
            if wins[0] % 2:
                assert m["request"] is None and m["eligible"] is True  # cancelled: may apply again
            else:
                assert m["request"]["state"] == "shipped" and m["request"]["ems_no"] == ems[wins[0]]
            acts = [a["action"] for a in audit(srv, sid) if a["entity"] == "mailing"]
            assert sorted(acts) == sorted(["create", "cancel" if wins[0] % 2 else "ship"]), acts


def test_cancel_rules(srv):
    sid = eligible_student(srv)
    with srv.student(sid) as c:
        err(c.post("/api/me/mailing/cancel"), 404, "not_found")
        mid = ok(c.post("/api/me/mailing"), 201)["request"]["id"]
        m = ok(c.post("/api/me/mailing/cancel"))
        assert m["state"] == "cancelled" and m["state_label"] == "已取消"
        err(c.post("/api/me/mailing/cancel"), 409, "wrong_state")
        mid2 = ok(c.post("/api/me/mailing"), 201)["request"]["id"]
        assert mid2 != mid
    with srv.staff("school-admin") as s:
        err(s.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "1151234567890"}), 409, "wrong_state")
        ok(s.post(f"/api/staff/mailing/{mid2}/ship", json={"ems_no": "1151234567890"}))
    with srv.student(sid) as c:
        e = err(c.post("/api/me/mailing/cancel"), 409, "wrong_state")
        assert "已寄出" in e["message"]


def audit(srv, sid: str) -> list[dict]:
    with srv.staff("school-admin") as s:
        return ok(s.get("/api/staff/audit", params={"student_id": sid, "limit": 1000}))["items"]

"""Issue 21 §8, §9, §11 against the real backend over HTTP (SQLite and PostgreSQL): over-deep JSON is a 4xx
with no traceback in the log; Rasa's NLG routes answer only the integration key (or the action server's
service key); a counselor cannot tell another college's record, student, mailing request or handoff id from
one that does not exist; every response says nosniff and the pages carry their Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.backend.helpers import DESTINATION, INTEGRATION_KEY, err, new_student, ok
from tests.handoff.helpers import SERVICE, ask_person

KEY = {"X-Integration-Key": INTEGRATION_KEY}
NLG_BODY = {"response": "utter_faq/login", "tracker": {"slots": {}}, "channel": {"name": "rest"}}


def log_text(srv) -> str:
    return (srv.system.log_dir / "backend.log").read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'{"response": "utter_faq/login", "arguments": ' + b"[" * 40 + b"]" * 40 + b"}",
    ],
)
def test_over_deep_json_is_refused_without_a_traceback(srv, body):
    before = len(log_text(srv))
    student = srv.token(student_id="2025000001")
    calls = [
        ("POST", "/api/nlg", KEY),
        ("POST", "/api/feedback", {}),
        ("POST", "/api/integration/handoff", SERVICE),
        ("POST", "/api/integration/turns", KEY),
        ("PUT", "/api/me/profile", {"Authorization": f"Bearer {student}"}),
        ("POST", "/api/auth/dev-login", {}),
    ]
    for method, path, headers in calls:
        r = srv.http.request(
            method, path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        b = err(r, 422, "too_deep")
        assert "嵌套" in b["message"], b
    tail = log_text(srv)[before:]
    assert "Traceback" not in tail and "RecursionError" not in tail, tail[-2000:]
    # honest nesting still works
    deep_ok = {**NLG_BODY, "arguments": {"a": [[[[{"b": [1]}]]]]}}
    assert ok(srv.http.post("/api/nlg", json=deep_ok, headers=KEY))["text"]


def test_nlg_routes_need_the_integration_or_service_key(srv):
    for method, path in (("POST", "/api/nlg"), ("GET", "/api/nlg/responses")):
        kw = {"json": NLG_BODY} if method == "POST" else {}
        err(srv.http.request(method, path, **kw), 401, "not_authenticated")
        err(
            srv.http.request(method, path, headers={"X-Integration-Key": "guess"}, **kw),
            401,
            "not_authenticated",
        )
        staff = srv.token(staff_id="school-admin")  # a sign-in is not the key either
        err(
            srv.http.request(method, path, headers={"Authorization": f"Bearer {staff}"}, **kw),
            401,
            "not_authenticated",
        )
        assert ok(srv.http.request(method, path, headers=KEY, **kw))
    assert ok(srv.http.post("/api/nlg", json=NLG_BODY, headers=SERVICE))["text"]  # the action server
    err(
        srv.http.post("/api/nlg", json=NLG_BODY, headers={"X-Actions-Service-Key": "guess"}),
        401,
        "service_key_invalid",
    )


def same_404(a, b) -> None:
    """Another college's id and an id that does not exist: the same answer."""
    assert a.status_code == b.status_code == 404, (a.text, b.text)
    assert a.json() == b.json(), (a.json(), b.json())


def test_a_counselor_cannot_enumerate_another_colleges_ids(srv):
    sid = new_student(srv, college="physics")
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        rid = ok(c.post("/api/me/destination/submit"))["id"]
    hid = ok(ask_person(srv, f"student:{sid}", sid))["session_id"]
    missing = 2**31 - 2
    with srv.staff("counselor-computer") as other:
        same_404(
            other.get(f"/api/staff/records/destination/{rid}"),
            other.get(f"/api/staff/records/destination/{missing}"),
        )
        same_404(
            other.post(f"/api/staff/records/destination/{rid}/review", json={"approve": True, "version": 1}),
            other.post(
                f"/api/staff/records/destination/{missing}/review", json={"approve": True, "version": 1}
            ),
        )
        same_404(
            other.get("/api/staff/audit", params={"student_id": sid}),
            other.get("/api/staff/audit", params={"student_id": "2099999999"}),
        )
        same_404(
            other.get("/api/staff/records", params={"kind": "destination", "college": "physics"}),
            other.get("/api/staff/records", params={"kind": "destination", "college": "no-such-college"}),
        )
        same_404(other.get(f"/api/staff/handoff/{hid}"), other.get(f"/api/staff/handoff/{missing}"))
    with srv.staff("counselor-physics") as mine:  # in scope: found
        assert ok(mine.get(f"/api/staff/records/destination/{rid}"))["id"] == rid
        ok(mine.post(f"/api/staff/handoff/{hid}/close"))


def test_security_headers(srv):
    for path in ("/staff/", "/"):
        r = srv.http.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        for part in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ):
            assert part in csp, csp
        assert "unsafe-inline" not in csp and r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    for path in ("/api/health", "/staff/staff.js", "/widget/widget.js"):
        assert srv.http.get(path).headers["x-content-type-options"] == "nosniff"
    # a forged Host header cannot write into the policy
    r = srv.http.get("/", headers={"Host": 'evil.example"; script-src *'})
    assert "evil" not in r.headers.get("content-security-policy", "")
    # outside production the API documentation stays (off in production:
    # tests/channels/test_hygiene_production.py)
    assert srv.http.get("/openapi.json").status_code == 200

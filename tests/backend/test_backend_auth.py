"""Identity: demo login, tokens, roles, CAS single sign-on; a student only ever reaches their own data."""

from __future__ import annotations

import datetime as dt
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest

from tests.backend.helpers import AUTH_SECRET, err, free_port, new_student, ok, start_backend, stop_backend


def test_dev_login_and_me(srv):
    with srv.student("2025000005") as c:
        assert ok(c.get("/api/me")) == {
            "role": "student",
            "id": "2025000005",
            "name": "陈静",
            "college": "计算机学院",
        }
    with srv.staff("counselor-physics") as c:
        me = ok(c.get("/api/me"))
        assert me["role"] == "counselor" and me["college"] == "物理学院"
    with srv.staff("school-admin") as c:
        assert ok(c.get("/api/me"))["role"] == "school"


def test_dev_login_bad_input(srv):
    with srv.client() as c:
        err(c.post("/api/auth/dev-login", json={}), 422, "validation_error")
        err(
            c.post("/api/auth/dev-login", json={"student_id": "2025000001", "staff_id": "school-admin"}),
            422,
            "validation_error",
        )
        err(c.post("/api/auth/dev-login", json={"student_id": "2099999999"}), 404, "not_found")
        err(c.post("/api/auth/dev-login", json={"staff_id": "nobody"}), 404, "not_found")
        err(
            c.post("/api/auth/dev-login", content=b"not json", headers={"content-type": "application/json"}),
            422,
            "validation_error",
        )
        err(c.post("/api/auth/dev-login", json={"student_id": 5}), 422, "validation_error")


def _token(claims: dict, secret: str = AUTH_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def test_tokens_are_verified(srv):
    exp = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    with srv.client() as c:
        err(c.get("/api/me/status"), 401, "not_authenticated")
        err(c.get("/api/me/status", headers={"Authorization": "Bearer nonsense"}), 401, "not_authenticated")
        err(c.get("/api/me/status", headers={"Authorization": "Basic abc"}), 401, "not_authenticated")
        forged = _token({"sub": "2025000005", "role": "student", "exp": exp}, "another-secret")
        err(c.get("/api/me/status", headers={"Authorization": f"Bearer {forged}"}), 401, "not_authenticated")
        expired = _token(
            {
                "sub": "2025000005",
                "role": "student",
                "exp": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1),
            }
        )
        err(c.get("/api/me/status", headers={"Authorization": f"Bearer {expired}"}), 401, "token_expired")
        ghost = _token({"sub": "2099999999", "role": "student", "exp": exp})
        err(c.get("/api/me/status", headers={"Authorization": f"Bearer {ghost}"}), 401, "not_authenticated")
        # a student id dressed up as staff is refused
        fake_staff = _token({"sub": "2025000005", "role": "school", "exp": exp})
        err(
            c.get("/api/staff/records?kind=destination", headers={"Authorization": f"Bearer {fake_staff}"}),
            401,
            "not_authenticated",
        )
        good = _token({"sub": "2025000005", "role": "student", "exp": exp})
        assert (
            ok(c.get("/api/me/status", headers={"Authorization": f"Bearer {good}"}))["student"]["id"]
            == "2025000005"
        )


def test_student_reaches_only_own_data(srv):
    a, b = new_student(srv, name="甲同学"), new_student(srv, name="乙同学")
    with srv.student(a) as ca, srv.student(b) as cb:
        # no endpoint takes a student id: a body that tries to name one is refused
        err(ca.put("/api/me/profile", json={"student_id": b}), 422, "validation_error")
        err(
            ca.put("/api/me/destination", json={"destination_type": "70", "student_id": b}),
            422,
            "validation_error",
        )
        ok(ca.put("/api/me/destination", json={"destination_type": "70"}))
        assert ok(cb.get("/api/me/destination"))["state"] == "not_started"
        assert ok(ca.get("/api/me/status"))["student"]["id"] == a
        # staff endpoints are not for students
        err(ca.get("/api/staff/records", params={"kind": "destination"}), 403, "forbidden")
        err(ca.get("/api/staff/audit", params={"student_id": b}), 403, "forbidden")
    with srv.staff("school-admin") as s:
        err(s.get("/api/me/profile"), 403, "forbidden")  # student endpoints are not for staff


# --- a separate backend: demo mode off, CAS configured against a fake university SSO ----------------------
class FakeCas(BaseHTTPRequestHandler):
    """A university SSO: a ticket validates once, and (as CAS does) only for the service it was issued for
    when the test says which (`issued_for`)."""

    tickets = {"ST-good": "2025000005", "ST-stranger": "1999000001"}
    issued_for: dict = {}
    seen: list = []

    def do_GET(self):  # noqa: N802
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        FakeCas.seen.append((url.path, q))
        ticket = q.get("ticket", "")
        user = None
        if url.path.endswith("/p3/serviceValidate") and self.issued_for.get(
            ticket, q.get("service")
        ) == q.get("service"):
            user = self.tickets.pop(ticket, None)
        if user:
            body = (
                f'<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>'
                f"<cas:user>{user}</cas:user></cas:authenticationSuccess></cas:serviceResponse>"
            )
        else:
            body = (
                '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure '
                'code="INVALID_TICKET">bad</cas:authenticationFailure></cas:serviceResponse>'
            )
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def sso_backend(tmp_path_factory):
    cas_port = free_port()
    cas = ThreadingHTTPServer(("127.0.0.1", cas_port), FakeCas)
    threading.Thread(target=cas.serve_forever, daemon=True).start()
    tmp = tmp_path_factory.mktemp("sso")
    srv = start_backend(
        f"sqlite:///{tmp}/sso.db",
        tmp,
        {"DEMO_MODE": "0", "CAS_SERVER_URL": f"http://127.0.0.1:{cas_port}/cas"},
        public_url=True,
    )
    # the same, without BACKEND_PUBLIC_URL (as the review found it)
    tmp2 = tmp_path_factory.mktemp("sso-no-public-url")
    bare = start_backend(
        f"sqlite:///{tmp2}/sso.db",
        tmp2,
        {"DEMO_MODE": "0", "CAS_SERVER_URL": f"http://127.0.0.1:{cas_port}/cas"},
    )
    srv.bare = bare
    yield srv
    stop_backend(bare)
    stop_backend(srv)
    cas.shutdown()


EVIL_SERVICE = "http://evil.example/api/auth/cas/callback?next=%2F"


@pytest.mark.parametrize("which", ["public_url", "no_public_url"])
def test_a_ticket_for_another_sites_service_is_refused_whatever_the_host_header(sso_backend, which):
    """Issue 21 §7: a CAS ticket issued for http://evil.example/... must not be redeemed here by sending
    `Host: evil.example` (the service URL is built from BACKEND_PUBLIC_URL, never from the Host header)."""
    srv = sso_backend if which == "public_url" else sso_backend.bare
    FakeCas.tickets["ST-evil"] = "school-admin"
    FakeCas.issued_for["ST-evil"] = EVIL_SERVICE
    r = httpx.get(
        f"{srv.base}/api/auth/cas/callback",
        params={"ticket": "ST-evil", "next": "/"},
        headers={"Host": "evil.example"},
        follow_redirects=False,
    )
    assert r.status_code in (401, 404) and "access_token" not in r.headers.get("location", ""), r.text
    assert r.json()["code"] == ("sso_ticket_invalid" if which == "public_url" else "sso_not_configured")
    r = httpx.get(
        f"{srv.base}/api/auth/cas/login",
        params={"next": "/"},
        headers={"Host": "evil.example"},
        follow_redirects=False,
    )
    if which == "public_url":
        service = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers["location"]).query))["service"]
        assert service.startswith(srv.base + "/api/auth/cas/callback")
    else:
        assert r.status_code == 404 and r.json()["code"] == "sso_not_configured"
    FakeCas.tickets.pop("ST-evil", None)


def test_demo_login_disabled_outside_demo_mode(sso_backend):
    with sso_backend.client() as c:
        err(c.post("/api/auth/dev-login", json={"student_id": "2025000005"}), 404, "demo_disabled")


def test_cas_login(sso_backend):
    with sso_backend.client() as c:
        r = c.get("/api/auth/cas/login", params={"next": "/index.html"})
        assert r.status_code == 302
        loc = urllib.parse.urlparse(r.headers["location"])
        assert loc.path == "/cas/login"
        service = dict(urllib.parse.parse_qsl(loc.query))["service"]
        assert service.startswith(sso_backend.base + "/api/auth/cas/callback")
        err(c.get("/api/auth/cas/login", params={"next": "https://evil.example/"}), 422, "validation_error")
        err(c.get("/api/auth/cas/login", params={"next": "//evil.example/"}), 422, "validation_error")

        r = c.get("/api/auth/cas/callback", params={"ticket": "ST-good", "next": "/index.html"})
        assert r.status_code == 302, (r.text, FakeCas.seen)
        target, _, frag = r.headers["location"].partition("#")
        assert target == "/index.html"
        token = dict(urllib.parse.parse_qsl(frag))["access_token"]
        assert FakeCas.seen[-1][0] == "/cas/p3/serviceValidate" and FakeCas.seen[-1][1]["ticket"] == "ST-good"
        me = ok(httpx.get(f"{sso_backend.base}/api/me", headers={"Authorization": f"Bearer {token}"}))
        assert me["id"] == "2025000005"
        # a ticket works once; unknown tickets and people outside the roster are refused
        err(c.get("/api/auth/cas/callback", params={"ticket": "ST-good"}), 401, "sso_ticket_invalid")
        err(c.get("/api/auth/cas/callback", params={"ticket": "ST-stranger"}), 403, "forbidden")
        err(c.get("/api/auth/cas/callback"), 422, "validation_error")


def test_cas_not_configured_on_demo_backend(srv):
    with srv.client() as c:
        err(c.get("/api/auth/cas/login"), 404, "sso_not_configured")

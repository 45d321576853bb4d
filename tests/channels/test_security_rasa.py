"""Issue 9 §1: Rasa's management API, CORS and credentials in the tracker, attacked over HTTP against real
processes (a real `rasa run` with our channels, the real backend)."""

import re
import secrets
import time
import uuid

import httpx
import pytest

from system import System
from tests.channels.channels_harness import ACTION_TOKEN_TTL, signed_query, text_xml

pytestmark = pytest.mark.slow

EVIL = "http://evil.example"
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def sid():
    return "web-" + uuid.uuid4().hex[:12]


def say(stack, sender, text, token=None):
    r = httpx.post(
        stack.rest,
        json={"sender": sender, "message": text, "metadata": {"token": token} if token else {}},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return "\n".join(m.get("text") or "" for m in r.json())


# --- the management API ----------------------------------------------------------------------------------
def test_the_launcher_starts_rasa_without_the_api_and_without_cors_star(tmp_path):
    args = System(log_dir=tmp_path).rasa_args(tmp_path / "model.tar.gz")
    assert "--enable-api" not in args and "--cors" not in args and "--auth-token" not in args
    api = System(log_dir=tmp_path, rasa_api=True)
    args = api.rasa_args(tmp_path / "model.tar.gz")
    assert "--enable-api" in args
    assert api.rasa_api_token not in " ".join(args)  # passed in the environment, not visible in `ps`
    assert len(api.rasa_api_token) >= 32


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/status"),
        ("GET", "/version"),
        ("GET", "/conversations/student:2025000003/tracker"),
        ("POST", "/conversations/student:2025000003/execute"),
        ("POST", "/conversations/student:2025000003/trigger_intent"),
        ("POST", "/model/parse"),
    ],
)
def test_management_api_is_off_by_default(safe_stack, method, path):
    r = httpx.request(
        method, safe_stack.rasa_url + path, json={"name": "action_listen", "text": "hi"}, timeout=10
    )
    assert r.status_code in (404, 405), (r.status_code, r.text[:200])


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/status"),
        ("GET", "/conversations/student:2025000003/tracker"),
        ("POST", "/conversations/student:2025000003/execute"),
        ("POST", "/model/parse"),
    ],
)
@pytest.mark.parametrize("token", [None, "", "wrong-token", "demo-rasa-api-token"])
def test_management_api_needs_its_token_when_enabled(stack, method, path, token):
    params = {} if token is None else {"token": token}
    r = httpx.request(
        method, stack.rasa_url + path, params=params, json={"name": "action_whoami", "text": "hi"}, timeout=10
    )
    assert r.status_code in (401, 403), (r.status_code, r.text[:200])
    assert stack.actions.calls_for("student:2025000003") == []


def test_management_api_works_with_its_token(stack):
    r = httpx.get(stack.system.rasa_api_url("/status"), timeout=10)
    assert r.status_code == 200 and "model_file" in r.json()


def test_an_api_token_that_starts_with_a_dash_starts_rasa(stack, tmp_path):
    """secrets.token_urlsafe gives a token starting with '-' one time in 64: Rasa's argument parser took it
    for an option and the launcher exited with 2 (CI, test-dates); the token is now passed as
    `--auth-token=...`."""
    token = "-" + secrets.token_urlsafe(32)
    s = System(
        log_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        rasa_api=True,
        env={"RASA_API_TOKEN": token},
    )
    try:
        s.start_rasa(stack.tmp / "tiny.tar.gz", str(stack.tmp / "endpoints.yml"), warm_up=False)
        assert httpx.get(s.rasa_api_url("/status"), timeout=10).status_code == 200
        assert httpx.get(f"{s.rasa_url}/status", params={"token": token[1:]}, timeout=10).status_code == 401
    finally:
        s.stop()


def test_rasa_refuses_to_start_with_an_open_api(stack, tmp_path):
    """Even outside production, `rasa run --enable-api` without a token never starts (the channels refuse)."""
    s = System(log_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    from system import RASA, ROOT

    proc = s._spawn(
        "rasa",
        [
            str(RASA),
            "run",
            "--model",
            str(stack.tmp / "tiny.tar.gz"),
            "--port",
            str(s.rasa_port),
            "--interface",
            "127.0.0.1",
            "--enable-api",
            "--credentials",
            str(ROOT / "bot" / "credentials.yml"),
        ],
    )
    try:
        rc = proc.wait(timeout=120)
    finally:
        s.stop()
    assert rc != 0
    log = (tmp_path / "rasa.log").read_text(errors="replace")
    assert "--enable-api without --auth-token" in log
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{s.rasa_port}/", timeout=2)


# --- CORS ------------------------------------------------------------------------------------------------
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def _cors_headers(r):
    return {k.lower(): v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("fixture", ["stack", "safe_stack"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/status",
        "/version",
        "/conversations/student:2025000003/tracker",
        "/webhooks/rest/webhook",
        "/webhooks/rest/",
        "/webhooks/wechat/webhook",
    ],
)
def test_no_route_lets_another_site_read_it(request, fixture, path):
    s = request.getfixturevalue(fixture)
    for method in ("GET", "POST", "OPTIONS"):
        headers = {"Origin": EVIL, **(PREFLIGHT if method == "OPTIONS" else {})}
        kw = {"json": {"sender": "a", "message": "你好"}} if method == "POST" else {}
        r = httpx.request(method, s.rasa_url + path, headers=headers, timeout=30, **kw)
        allow = r.headers.get("access-control-allow-origin")
        assert allow is None, (method, path, r.status_code, _cors_headers(r))
        assert r.status_code < 500


@pytest.mark.parametrize("fixture", ["stack", "safe_stack"])
def test_the_widget_origin_is_allowed(request, fixture):
    s = request.getfixturevalue(fixture)
    ok = httpx.options(s.rest, headers={"Origin": "http://127.0.0.1:8000", **PREFLIGHT})
    assert ok.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"
    r = httpx.post(
        s.rest,
        json={"sender": "a", "message": "你好"},
        headers={"Origin": "http://127.0.0.1:8000"},
        timeout=30,
    )
    assert r.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"


# --- credentials in the tracker --------------------------------------------------------------------------
def _backend_status(stack, token, service_key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if service_key is not None:
        headers["X-Actions-Service-Key"] = service_key
    return httpx.get(f"{stack.backend_url}/api/me/status", headers=headers, timeout=10)


def test_a_tracker_read_after_a_signed_in_chat_holds_nothing_usable(stack):
    web_token = stack.login("2025000003")
    assert "用户=2025000003" in say(stack, sid(), "whoami", web_token)
    raw = httpx.get(stack.system.rasa_api_url("/conversations/student:2025000003/tracker"), timeout=10).text
    found = set(JWT_RE.findall(raw))
    assert web_token not in raw
    assert found, "the action token should be in the tracker (that is what the actions use)"
    for tok in found:
        # an attacker who read the tracker has no service key
        r = _backend_status(stack, tok)
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated", r.text
        r = _backend_status(stack, tok, service_key="guess")
        assert r.status_code == 401 and r.json()["code"] == "service_key_invalid", r.text
    time.sleep(ACTION_TOKEN_TTL + 1.5)
    for tok in found:
        # and once it has expired, not even the action server can use it
        r = _backend_status(stack, tok, service_key=stack.service_key)
        assert r.status_code == 401 and r.json()["code"] == "token_expired", r.text


def test_the_action_token_works_only_for_the_action_server_and_only_briefly(stack):
    web_token = stack.login("2025000004")
    say(stack, sid(), "whoami", web_token)
    call = stack.actions.calls_for("student:2025000004", "action_whoami")[-1]
    tok = call["tracker"]["latest_message"]["metadata"]["token"]
    r = _backend_status(stack, tok, service_key=stack.service_key)
    assert r.status_code == 200 and r.json()["student"]["id"] == "2025000004"
    assert _backend_status(stack, tok).status_code == 401
    # the web token keeps working for the web, with or without the service key
    assert _backend_status(stack, web_token).status_code == 200
    assert _backend_status(stack, web_token, service_key=stack.service_key).status_code == 200


def test_an_action_token_is_not_a_sign_in_for_the_chat(stack):
    web_token = stack.login("2025000004")
    say(stack, sid(), "whoami", web_token)
    tok = stack.actions.calls_for("student:2025000004", "action_whoami")[-1]["tracker"]["latest_message"][
        "metadata"
    ]["token"]
    out = say(stack, sid(), "whoami", tok)
    assert "登录已失效" in out and "会话=anon:" in out


def test_wechat_tracker_holds_only_a_short_lived_action_token(stack):
    oid = "o" + uuid.uuid4().hex[:27]
    r = httpx.post(
        f"{stack.backend_url}/api/integration/wechat/token",
        json={"openid": oid},
        headers={"X-Integration-Key": stack.integration_key},
        timeout=10,
    )
    assert r.status_code == 404  # not bound yet
    # bind through the backend's own integration route (the code format belongs to the backend)
    web_token = stack.login("2025000005")
    code = httpx.post(
        f"{stack.backend_url}/api/me/wechat/bind-code", headers={"Authorization": f"Bearer {web_token}"}
    ).json()["code"]
    r = httpx.post(
        f"{stack.backend_url}/api/integration/wechat/bind",
        json={"openid": oid, "code": code},
        headers={"X-Integration-Key": stack.integration_key},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    q = signed_query(stack.wechat_token)
    r = httpx.post(stack.wechat, params=q, content=text_xml(oid, "whoami").encode(), timeout=15)
    assert "用户=2025000005" in r.text
    raw = httpx.get(stack.system.rasa_api_url(f"/conversations/wechat:{oid}/tracker"), timeout=10).text
    found = set(JWT_RE.findall(raw))
    assert found
    for tok in found:
        assert _backend_status(stack, tok).status_code == 401
    time.sleep(ACTION_TOKEN_TTL + 1.5)
    for tok in found:
        assert _backend_status(stack, tok, service_key=stack.service_key).status_code == 401


def test_wechat_token_route_mints_action_tokens(stack):
    """The integration route used to mint a 30-minute web token, accepted by every backend route."""
    oid = "o" + uuid.uuid4().hex[:27]
    web_token = stack.login("2025000006")
    code = httpx.post(
        f"{stack.backend_url}/api/me/wechat/bind-code", headers={"Authorization": f"Bearer {web_token}"}
    ).json()["code"]
    httpx.post(
        f"{stack.backend_url}/api/integration/wechat/bind",
        json={"openid": oid, "code": code},
        headers={"X-Integration-Key": stack.integration_key},
        timeout=10,
    ).raise_for_status()
    r = httpx.post(
        f"{stack.backend_url}/api/integration/wechat/token",
        json={"openid": oid},
        headers={"X-Integration-Key": stack.integration_key},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["expires_in"] <= 300
    tok = r.json()["access_token"]
    assert _backend_status(stack, tok).status_code == 401
    assert _backend_status(stack, tok, service_key=stack.service_key).status_code == 200

"""Test harness for the channels: a throwaway keyword bot served by a REAL `rasa run` with our channels
loaded, a fake action server (so a test can make an answer slow or long), a fake WeChat API (access token +
customer-service send), the real backend (binding, demo login) and a static server for web/.

Used by tests/channels and tests/web.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import random
import secrets
import shutil
import string
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from system import RASA, ROOT, System, http_post

TINYBOT = Path(__file__).resolve().parent / "tinybot"
WECHAT_TOKEN = "test-wechat-token"
WECHAT_APPID = "wx1234567890abcdef"
WECHAT_APPSECRET = "test-app-secret"
WECHAT_AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")
AUTH_SECRET = "demo-secret-change-me"
INTEGRATION_KEY = "demo-integration-key"

LONG_TEXT = "\n".join(f"第{i}条：毕业去向登记与户档信息登记的说明文字，请仔细阅读。" for i in range(1, 81))
CDATA_TEXT = "注意 ]]><script>alert(1)</script> 结束"
LINK_TEXT = '详情见 https://job.bit.edu.cn/guide?a=1&b=2 页面。<img src=x onerror="window.__xss=1"> 完'


# --- small threaded HTTP servers ---------------------------------------------------------------------------
class _Server:
    def __init__(self, handler_cls):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _json(self, status, obj):
        data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(n) or b"null")


@dataclass
class FakeActions:
    """A fake action server: each action answers from the tracker it is sent, so tests see what reached it."""

    slow_seconds: float = 6.0
    down: bool = False  # answer 503 like a crashed action server
    calls: list = field(default_factory=list)

    def start(self):
        fake = self

        class H(_Quiet):
            def do_GET(self):
                self._json(200, {"status": "ok"})

            def do_POST(self):
                req = self._body()
                if fake.down:
                    return self._json(503, {"error": "down"})
                fake.calls.append(req)
                self._json(200, {"events": [], "responses": [{"text": fake.answer(req)}]})

        self.server = _Server(H)
        return self

    def answer(self, req) -> str:
        name, tracker = req.get("next_action"), req.get("tracker") or {}
        latest = tracker.get("latest_message") or {}
        meta = latest.get("metadata") or {}
        if name == "action_slow":
            time.sleep(self.slow_seconds)
            return "慢速回复完成"
        if name == "action_long":
            return LONG_TEXT
        if name == "action_cdata":
            return CDATA_TEXT
        if name == "action_link":
            return LINK_TEXT
        if name == "action_whoami":
            return (
                f"会话={tracker.get('sender_id')}；令牌={'有' if meta.get('token') else '无'}；"
                f"用户={meta.get('user_id') or '-'}；渠道={meta.get('channel') or '-'}"
            )
        if name == "action_remember":
            return "已记住"
        if name == "action_recall":
            texts = [e.get("text") for e in tracker.get("events") or [] if e.get("event") == "user"]
            return "历史：" + " | ".join(t for t in texts[:-1] if t)
        return "未知动作"

    def calls_for(self, sender_id: str, action: str | None = None) -> list:
        return [
            c
            for c in self.calls
            if (c.get("tracker") or {}).get("sender_id") == sender_id
            and (action is None or c.get("next_action") == action)
        ]

    def close(self):
        self.server.close()


@dataclass
class FakeWeChatAPI:
    """The WeChat server APIs the channel and the notice workers use: /cgi-bin/token,
    /cgi-bin/message/custom/send and /cgi-bin/message/template/send."""

    sent: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)
    reject_next_send_with: int = 0
    fail_sends: bool = False  # the customer-service API refuses every send (e.g. outside the 48 h window)
    refused: list = field(default_factory=list)
    templates: list = field(default_factory=list)  # template messages (notices outside the 48 h window)

    def start(self):
        fake = self

        class H(_Quiet):
            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                if u.path == "/cgi-bin/token":
                    fake.token_requests.append(q)
                    if q.get("appid") != WECHAT_APPID or q.get("secret") != WECHAT_APPSECRET:
                        return self._json(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
                    return self._json(
                        200, {"access_token": f"AT{len(fake.token_requests)}", "expires_in": 7200}
                    )
                self._json(404, {"errcode": 404})

            def do_POST(self):
                u = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                if u.path == "/cgi-bin/message/custom/send":
                    body = self._body()
                    if fake.fail_sends:
                        fake.refused.append(body)
                        return self._json(200, {"errcode": 45015, "errmsg": "response out of time limit"})
                    if fake.reject_next_send_with:
                        code, fake.reject_next_send_with = fake.reject_next_send_with, 0
                        return self._json(200, {"errcode": code, "errmsg": "access_token expired"})
                    fake.sent.append({"access_token": q.get("access_token"), **body})
                    return self._json(200, {"errcode": 0, "errmsg": "ok"})
                if u.path == "/cgi-bin/message/template/send":
                    body = self._body()
                    if not body.get("template_id") or not body.get("touser"):
                        return self._json(200, {"errcode": 40037, "errmsg": "invalid template_id"})
                    fake.templates.append({"access_token": q.get("access_token"), **body})
                    return self._json(200, {"errcode": 0, "errmsg": "ok", "msgid": len(fake.templates)})
                self._json(404, {"errcode": 404})

        self.server = _Server(H)
        return self

    def wait_sent(self, openid: str, n: int = 1, timeout: float = 20.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [m for m in self.sent if m.get("touser") == openid]
            if len(got) >= n:
                return got
            time.sleep(0.1)
        return [m for m in self.sent if m.get("touser") == openid]

    def close(self):
        self.server.close()


class StaticWeb:
    """Serves web/ (the demo page and the widget) for the browser tests."""

    def __init__(self, root: Path = ROOT / "web"):
        handler = functools.partial(_StaticHandler, directory=str(root))
        self.server = _Server(handler)
        self.url = self.server.url

    def close(self):
        self.server.close()


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


# --- the stack ---------------------------------------------------------------------------------------------
def train_tiny_model(out_dir: Path) -> Path:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(
        [
            str(RASA),
            "train",
            "--config",
            str(TINYBOT / "config.yml"),
            "--domain",
            str(TINYBOT / "domain.yml"),
            "--data",
            str(TINYBOT / "nlu.yml"),
            str(TINYBOT / "rules.yml"),
            "--out",
            str(out_dir),
            "--fixed-model-name",
            "tiny",
        ],
        cwd=out_dir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    return out_dir / "tiny.tar.gz"


class ChannelStack:
    """Backend + Rasa (tiny bot, our channels) + fake actions + fake WeChat API, all on loopback.

    WeChat runs in plaintext mode unless `aes=True` (safe mode: WECHAT_AES_KEY set). Rasa's management API is
    on, with a random API token (`tracker()` passes it), as an operator could run it, unless `rasa_api=False`
    (the launcher's default). `extra_env` overrides the settings (e.g. APP_ENV=production with real secrets).
    """

    def __init__(
        self,
        tmp: Path,
        web_origin: str = "",
        reply_timeout: float = 4.0,
        aes: bool = False,
        extra_env: dict | None = None,
        rasa_api: bool = True,
        seed: bool = True,
        rasa_extra_args: list | None = None,
        database_url: str | None = None,
        endpoints_extra: str = "",
    ):
        self.tmp = tmp
        self.endpoints_extra = endpoints_extra  # more sections of Rasa's endpoints.yml (e.g. the turn log)
        self.aes = aes
        self.seed = seed
        self.rasa_extra_args = list(rasa_extra_args or [])
        self.actions = FakeActions().start()
        self.wechat_api = FakeWeChatAPI().start()
        self.system = System(
            actions_port=self.actions.server.port,
            database_url=database_url or f"sqlite:///{tmp / 'app.db'}",
            log_dir=tmp / "log",
            rasa_api=rasa_api,
            env={
                "AUTH_SECRET": AUTH_SECRET,
                "INTEGRATION_KEY": INTEGRATION_KEY,
                "WECHAT_TOKEN": WECHAT_TOKEN,
                "ACTIONS_SERVICE_KEY": "demo-actions-service-key",
                "WECHAT_APPID": WECHAT_APPID,
                "WECHAT_APPSECRET": WECHAT_APPSECRET,
                "WECHAT_AES_KEY": WECHAT_AES_KEY if aes else "",
                "WECHAT_API_BASE": self.wechat_api.server.url,
                "WECHAT_REPLY_TIMEOUT": str(reply_timeout),
                "CHAT_ALLOWED_ORIGINS": web_origin or "http://127.0.0.1:8000",
                "ACTION_TIMEOUT": "9",  # above slow_seconds: the WeChat late-answer tests need the answer
                **(extra_env or {}),
            },
        )
        env = self.system.env
        self.wechat_token = env["WECHAT_TOKEN"]
        self.auth_secret = env["AUTH_SECRET"]
        self.integration_key = env["INTEGRATION_KEY"]
        self.service_key = env["ACTIONS_SERVICE_KEY"]

    def start(self, model: Path | None = None) -> ChannelStack:
        try:
            self.system.prepare_database(seed=self.seed)
            self.system.start_backend()
            model = model or train_tiny_model(self.tmp)
            endpoints = self.tmp / "endpoints.yml"
            endpoints.write_text(
                f'action_endpoint:\n  url: "{self.actions.server.url}/webhook"\n' + self.endpoints_extra
            )
            self.system.start_rasa(
                model,
                str(endpoints),
                str(ROOT / "bot" / "credentials.yml"),
                self.rasa_extra_args,
                warm_up=False,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self.system.stop()
        self.actions.close()
        self.wechat_api.close()

    @property
    def rasa_url(self) -> str:
        return self.system.rasa_url

    @property
    def backend_url(self) -> str:
        return self.system.backend_url

    @property
    def rest(self) -> str:
        return self.system.rest_webhook

    @property
    def wechat(self) -> str:
        return f"{self.system.rasa_url}/webhooks/wechat/webhook"

    def tracker(self, sender_id: str) -> dict:
        """The conversation as an operator reads it (management API with the API token)."""
        q = urllib.parse.quote(sender_id, safe=":")
        with urllib.request.urlopen(self.system.rasa_api_url(f"/conversations/{q}/tracker"), timeout=10) as r:
            return json.loads(r.read())

    def login(self, student_id: str) -> str:
        status, body = http_post(f"{self.backend_url}/api/auth/dev-login", {"student_id": student_id})
        assert status == 200, body
        return body["access_token"]


# --- WeChat request builders (independent of wechatpy) -------------------------------------------------
def nonce() -> str:
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(10))


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed_query(token: str = WECHAT_TOKEN, ts: int | None = None, **extra) -> dict:
    ts = str(int(time.time()) if ts is None else ts)
    n = nonce()
    return {"signature": sign(token, ts, n), "timestamp": ts, "nonce": n, **extra}


def text_xml(openid: str, content: str, msg_id: int | None = None, account: str = "gh_test") -> str:
    msg_id = msg_id or random.randint(10**15, 10**16)
    return (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str = "subscribe", account: str = "gh_test") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def _aes_key() -> bytes:
    return base64.b64decode(WECHAT_AES_KEY + "=")


def aes_encrypt(plain: str, appid: str = WECHAT_APPID) -> str:
    """WeChat safe-mode encryption done with `cryptography` directly (not with the code under test)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = _aes_key()
    msg = plain.encode()
    raw = os.urandom(16) + len(msg).to_bytes(4, "big") + msg + appid.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def aes_decrypt(encrypted: str) -> tuple[str, str]:
    """-> (xml, appid)"""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = _aes_key()
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    raw = raw[: -raw[-1]]
    n = int.from_bytes(raw[16:20], "big")
    return raw[20 : 20 + n].decode(), raw[20 + n :].decode()


def chromium_path() -> str | None:
    for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if p and os.path.exists(p):
            return p
    return None


# --- the stacks' settings and what the channel tests ask of them --------------------------------------------
ACTION_TOKEN_TTL = 4  # seconds an action token lives on `stack` (so that expiry can be tested)


def strong(n: int = 48) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


PRODUCTION_ENV = {
    "APP_ENV": "production",
    "AUTH_SECRET": strong(),
    "INTEGRATION_KEY": strong(),
    "WECHAT_TOKEN": strong(32),  # WeChat allows 3-32 characters
    "ACTIONS_SERVICE_KEY": strong(),
    "WECHAT_APPSECRET": strong(32),
    # the deployment settings production requires (issue 21 §7); nothing here is contacted by the tests
    "WECHAT_AES_KEY": WECHAT_AES_KEY,
    "WECHAT_APPID": WECHAT_APPID,
    "CHAT_ALLOWED_ORIGINS": "http://127.0.0.1:8000",
    "CAS_SERVER_URL": "https://sso.bit.edu.cn/cas",
    "BACKEND_PUBLIC_URL": "https://job.bit.edu.cn",
}


def reply_content(resp) -> str:
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.text)
    assert root.findtext("MsgType") == "text"
    return root.findtext("Content")


def user_events(stack, sender_id):
    return [e for e in stack.tracker(sender_id).get("events", []) if e.get("event") == "user"]


def bind_code(stack, token):
    r = httpx.post(
        f"{stack.backend_url}/api/me/wechat/bind-code", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["code"]

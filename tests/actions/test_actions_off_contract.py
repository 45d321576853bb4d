"""Issue 21 §6: a broken backend answer is never a false success. The REAL action server (rasa_sdk, as Rasa
calls it over HTTP) against a fake backend that answers 2xx with an HTML page or with JSON off the contract:
every action says the backend is unavailable (a clear Chinese message), never "已提交档案邮寄申请" and never
"nothing was started"; a mailing request is confirmed only with the created request's id and state."""

from __future__ import annotations

import http.server
import json
import threading

import httpx
import pytest

from system import System
from tests.actions.helpers import make_tracker, render

HTML = ("text/html; charset=utf-8", "<html><body>维护中 / maintenance</body></html>")


def js(obj, ctype="application/json"):
    return (ctype, json.dumps(obj, ensure_ascii=False))


MAILING_REQUEST = {
    "id": 7,
    "student_id": "2025000005",
    "state": "submitted",
    "ems_no": None,
    "version": 1,
    "archive": {"address": "北京市海淀区"},
    "created_at": "2026-11-30T10:00:00+08:00",
}
ELIGIBILITY = {
    "eligible": True,
    "eligible_from": "2026-11-20",
    "reason": None,
    "reason_message": "",
    "estimated": False,
}


class FakeBackend:
    """Answers every request with what the test put in `answers[(method, path)]` (status, (type, body))."""

    def __init__(self):
        self.answers: dict = {}
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self):
                n = int(self.headers.get("content-length") or 0)
                if n:
                    self.rfile.read(n)
                status, (ctype, body) = fake.answers.get(
                    (self.command, self.path.split("?")[0]),
                    (404, js({"code": "not_found", "message": "没有"})),
                )
                data = body.encode()
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    fake = FakeBackend()
    system = System(log_dir=tmp_path_factory.mktemp("off-contract") / "log", env={"BACKEND_URL": fake.url})
    system.start_actions()  # the real action server, pointed at the fake backend
    yield system, fake
    system.stop()
    fake.server.shutdown()


def call(system, action: str, text: str, intent: str, slots: dict | None = None) -> str:
    tracker = make_tracker(text, intent, "a.b.c", slots=slots, sender="student:2025000005").current_state()
    r = httpx.post(
        f"{system.actions_url}/webhook",
        json={
            "next_action": action,
            "sender_id": tracker["sender_id"],
            "tracker": tracker,
            "domain": {},
            "version": "3.6.0",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return "\n".join(render(m).get("text") or "" for m in r.json()["responses"])


UNAVAILABLE = "个人查询功能暂时不可用"
BROKEN = [
    pytest.param((201, HTML), id="html-page"),
    pytest.param((201, js({"ok": True})), id="unexpected-json"),
    pytest.param(
        (201, js({"already_submitted": False, "request": {"state": "submitted"}})), id="no-request-id"
    ),
    pytest.param(
        (201, js({"already_submitted": False, "request": {**MAILING_REQUEST, "state": "成功"}})),
        id="unknown-state",
    ),
    pytest.param(
        (201, js({"already_submitted": False, "request": MAILING_REQUEST}, "text/html")), id="json-as-html"
    ),
    pytest.param((200, ("application/json", "{not json")), id="broken-json"),
    pytest.param((204, ("application/json", "")), id="empty"),
]


@pytest.mark.parametrize("answer", BROKEN)
def test_mailing_submit_is_never_confirmed_without_the_created_request(rig, answer):
    system, fake = rig
    fake.answers[("POST", "/api/me/mailing")] = answer
    out = call(system, "action_mailing_submit", "确认提交", "affirm", {"mailing_pending": True})
    assert UNAVAILABLE in out and "已提交" not in out, out


def test_mailing_submit_within_the_contract_is_confirmed(rig):
    system, fake = rig  # the control: the same rig confirms a real answer
    fake.answers[("POST", "/api/me/mailing")] = (
        201,
        js({"already_submitted": False, "request": MAILING_REQUEST}),
    )
    assert "已提交档案邮寄申请" in call(
        system, "action_mailing_submit", "确认提交", "affirm", {"mailing_pending": True}
    )


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((200, HTML), id="html-page"),
        pytest.param((200, js({})), id="empty-object"),
        pytest.param(
            (200, js({"request": None, "eligibility": {"eligible": "yes"}, "archive": None})),
            id="wrong-types",
        ),
    ],
)
def test_mailing_check_off_contract_is_unavailable(rig, answer):
    system, fake = rig
    fake.answers[("GET", "/api/me/mailing")] = answer
    out = call(system, "action_mailing_check", "申请档案邮寄", "apply_mailing")
    assert UNAVAILABLE in out and "确认提交" not in out, out


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((200, HTML), id="html-page"),
        pytest.param((200, js({"student": {"name": "张三"}})), id="partial"),
        pytest.param((200, js([])), id="a-list"),
    ],
)
def test_status_off_contract_is_unavailable(rig, answer):
    system, fake = rig
    fake.answers[("GET", "/api/me/status")] = answer
    fake.answers[("GET", "/api/me/archive")] = answer  # the status also reads where the archive goes
    out = call(system, "action_check_status", "我的毕业去向审核到哪一步了", "check_status")
    assert UNAVAILABLE in out and "还没有开始" not in out, out

"""No process writes the WeChat app secret or an access token to its log (docs/security.md).

The token endpoint carries the app secret in its query (`secret=`), every other WeChat API call the access
token (`access_token=`); an HTTP client that logs request URLs (httpx at INFO) would write them to the log.
Against the real processes and the fake WeChat API: Rasa with the WeChat channel (a long answer goes out
through the customer-service API), the backend with its notice delivery thread and a `python -m
backend.services.notices` worker (a deadline notice to a WeChat-bound student). Then every log is read:
request lines are there (operators keep them), the secret and the tokens are not.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import time
import uuid
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import httpx
import pytest

from contracts import logs
from system import VENV_PY
from tests.channels.channels_harness import WECHAT_APPSECRET, ChannelStack, signed_query, text_xml

TOKEN_IN_URL = re.compile(r"access_token=(?!\*)[^&\s\"']+")


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    s = ChannelStack(
        tmp_path_factory.mktemp("log-secrets"),
        extra_env={"NOTICE_POLL_SECONDS": "0.2", "NOTICE_SWEEP_SECONDS": "0.5"},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


def wechat(s, openid: str, content: str) -> str:
    r = httpx.post(
        s.wechat,
        params=signed_query(s.wechat_token),
        content=text_xml(openid, content).encode(),
        timeout=15,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return ET.fromstring(r.text).findtext("Content") or ""


@pytest.mark.slow
def test_wechat_calls_leave_no_secret_in_any_process_log(logged):
    s = logged
    oid = "o" + uuid.uuid4().hex[:27]
    # Rasa: a long answer, its rest through the customer-service API (access token fetched with the secret)
    wechat(s, oid, "长回复")
    assert len(s.wechat_api.wait_sent(oid, 1, timeout=20)) >= 1, "Rasa sent nothing through the WeChat API"
    # the backend's worker thread and a worker process: a deadline notice to a bound student
    s.system._spawn(
        "notices-worker",
        [str(VENV_PY), "-m", "backend.services.notices"],
        extra_env={"NOTICE_POLL_SECONDS": "0.2"},
    )
    student = httpx.Client(
        base_url=s.backend_url,
        trust_env=False,
        timeout=15,
        headers={"Authorization": f"Bearer {s.login('2025000006')}"},
    )
    code = student.post("/api/me/wechat/bind-code").json()["code"]
    bound = "o" + uuid.uuid4().hex[:27]
    assert "绑定成功" in wechat(s, bound, code)
    admin = httpx.post(
        f"{s.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, trust_env=False
    ).json()["access_token"]
    due = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=30)
    r = httpx.post(
        f"{s.backend_url}/api/staff/notices/deadlines",
        trust_env=False,
        timeout=15,
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "title": "日志检查截止",
            "due_on": due.isoformat(),
            "audience": "all",
            "college_code": "management",
        },
    )
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 30
    while not any(
        "日志检查截止" in m["text"]["content"] for m in s.wechat_api.sent if m.get("touser") == bound
    ):
        assert time.monotonic() < deadline, "the notice never reached WeChat"
        time.sleep(0.2)
    s.system.stop_one("notices-worker")
    time.sleep(0.5)  # log lines written just now

    logs = {p.name: p.read_text(errors="replace") for p in sorted(s.system.log_dir.glob("*.log"))}
    assert {"backend.log", "rasa.log", "notices-worker.log"} <= set(logs)
    assert s.wechat_api.token_requests, "nobody asked WeChat for an access token"
    for name, text_ in logs.items():
        assert WECHAT_APPSECRET not in text_, f"{name} holds the WeChat app secret"
        assert not TOKEN_IN_URL.search(text_), (
            f"{name} holds an access token: {TOKEN_IN_URL.search(text_)[0]}"
        )
    # redacted, not silenced: the process that sent the notice logged its WeChat request lines
    senders = [n for n in ("backend.log", "notices-worker.log") if "/cgi-bin/message/custom/send" in logs[n]]
    assert senders, "no WeChat request line in the backend's or the worker's log"
    assert "access_token=***" in logs[senders[0]]


def test_every_record_of_a_process_is_masked_whichever_handler_writes_it():
    """The record factory masks at the source: a handler added later (as Rasa and rasa_sdk add theirs) and a
    logger of any library see only masked values; ordinary text and non-secret parameters are untouched."""
    logs.setup(configure=False)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    log = logging.getLogger("test.log_secrets")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        log.info(
            "HTTP Request: %s %s",
            "GET",
            "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S3CR3T",
        )
        log.info(
            'HTTP Request: POST https://x/cgi-bin/message/custom/send?access_token=AT-42 "HTTP/1.1 200 OK"'
        )
        log.warning("no token: %s", {"access_token": "AT-43", "errcode": 0})
        log.info(
            "cas https://cas/p3/serviceValidate?ticket=ST-7-abc&service=https%3A%2F%2Fjob%2F%3Ftoken%3DT0K"
        )
        log.info("authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig")
        try:
            raise ValueError("Client error for url https://x/send?access_token=AT-44")
        except ValueError:
            log.exception("send failed")
        log.info("%d%% done, open_key=wechat:o123 appid=wx1", 100)
    finally:
        log.removeHandler(handler)
    text_ = out.getvalue()
    for secret in ("S3CR3T", "AT-42", "AT-43", "ST-7-abc", "T0K", "eyJhbGciOiJIUzI1NiJ9", "AT-44"):
        assert secret not in text_, secret
    assert "secret=***" in text_ and "access_token=***" in text_ and "'access_token': '***'" in text_
    assert "ticket=***" in text_ and "Bearer ***" in text_ and "ValueError: Client error" in text_
    assert "100% done, open_key=wechat:o123 appid=wx1" in text_

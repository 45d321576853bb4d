"""Conversations survive restarts (issue 10 §3): the real backend, action server and Rasa; Rasa and the action
server are stopped (SIGTERM while a turn is in flight, then kill -9) and started again in the middle of a
form."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time

import pytest

from system import System, dev_login, say

pytestmark = pytest.mark.slow


def text_of(messages) -> str:
    return "\n".join(
        [m.get("text") or "" for m in messages]
        + [b.get("title", "") for m in messages for b in m.get("buttons") or []]
    )


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("restart")
    s = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log")
    s.start()
    yield s
    s.stop()


def _killpg(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def test_form_goes_on_after_rasa_and_the_action_server_restart(system):
    token = dev_login(system.backend_url, "2025000001")

    def chat(text: str) -> str:
        return text_of(say(system.rest_webhook, "restart-test", text, token, timeout=60))

    assert "政治面貌" in chat("帮我填写个人信息")
    assert "生源所在地" in chat("群众")

    # SIGTERM while a turn is in flight: the action server is frozen, so Rasa is waiting for it
    rasa, actions = system.procs["rasa"], system.procs["actions"]
    _killpg(actions, signal.SIGSTOP)
    got: dict = {}
    turn = threading.Thread(target=lambda: got.update(reply=chat("河北省 石家庄市")))
    turn.start()
    time.sleep(1.5)
    _killpg(rasa, signal.SIGTERM)
    time.sleep(1.5)
    assert rasa.poll() is None, "Rasa quit with a turn in flight"
    _killpg(actions, signal.SIGCONT)
    turn.join(30)
    assert "困难生" in got.get("reply", ""), got  # the in-flight turn was answered before Rasa stopped
    assert rasa.wait(30) is not None

    # then a crash of the action server, and both start again
    _killpg(actions, signal.SIGKILL)
    actions.wait(10)
    system.procs.pop("rasa"), system.procs.pop("actions")
    system.start_actions()
    system.start_rasa()

    # the student goes on with the next question; nothing answered is asked again
    reply = chat("非困难生")
    assert "手机号" in reply
    assert "政治面貌" not in reply and "生源所在地" not in reply and "困难生" not in reply
    for answer in ["13812345678", "a@example.com", "wx_zhangwei", "李华", "2班", "张建国"]:
        reply = chat(answer)
        assert "政治面貌" not in reply and "生源所在地" not in reply
    reply = chat("13987654321")
    # the summary to confirm holds the answers given before the restart
    assert "群众" in reply and "河北省" in reply and "非困难生" in reply, reply

    # the conversation is in the tracker database, one row per event, none written twice
    db = system.child_env()["TRACKER_DB_URL"][len("sqlite:///") :]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = 'student:2025000001' ORDER BY id"
        ).fetchall()
    users = [json.loads(d)["text"] for (d,) in rows if json.loads(d)["event"] == "user"]
    assert users == [
        "帮我填写个人信息",
        "群众",
        "河北省 石家庄市",
        "非困难生",
        "13812345678",
        "a@example.com",
        "wx_zhangwei",
        "李华",
        "2班",
        "张建国",
        "13987654321",
    ]

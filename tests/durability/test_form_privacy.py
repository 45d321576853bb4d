"""Issue 21 §3: form answers never reach the staff turn log in clear, also after a restart of Rasa in the
middle of a form (the form goes on, as promised): whether a form is open is read from the conversation's own
events (bot/tracker_store.py -> bot/turnlog.py), not from the memory of the process. Real backend, action
server and Rasa (trained model), SQLite and PostgreSQL (backend and tracker store). The cluster case (two
Rasa servers, round robin) is
tests/cluster/test_cluster.py::test_form_answers_stay_out_of_the_turn_log_on_either_server."""

from __future__ import annotations

import types
import uuid

import pytest

from system import System, dev_login, say
from tests.backend.helpers import database_urls, new_student
from tests.helpers.form_privacy import assert_answers_kept_out_of_the_log, fill_profile_form

pytestmark = pytest.mark.slow


def text_of(messages) -> str:
    return "\n".join(
        [m.get("text") or "" for m in messages]
        + [b.get("title", "") for m in messages for b in m.get("buttons") or []]
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def system(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"form-privacy-{request.param}")
    db_url, drop = database_urls(tmp, request.param)
    s = System(database_url=db_url, log_dir=tmp / "log")
    s.start()
    yield s
    s.stop()
    drop()


def test_form_answers_stay_out_of_the_turn_log_after_a_rasa_restart(system):
    sid = new_student(types.SimpleNamespace(db_url=system.database_url), profile=False)
    token = dev_login(system.backend_url, sid)
    sender = "fp-" + uuid.uuid4().hex[:8]

    def chat(text: str) -> str:
        return text_of(say(system.rest_webhook, sender, text, token, timeout=60))

    def restart_rasa() -> None:  # a restart in the middle of the form: this process's memory is gone
        system.stop_one("rasa")
        system.start_rasa()

    fill_profile_form(chat, in_the_middle=restart_rasa)
    questions = assert_answers_kept_out_of_the_log(system.backend_url, sid)
    assert "帮我填写个人信息" in questions

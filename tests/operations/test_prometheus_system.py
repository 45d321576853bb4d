"""A real Prometheus (Debian's package) scraping `make run`'s three processes (the launcher's System): chats
of each outcome, then the expected series read back through Prometheus's HTTP API; no student number or
message text in any label; readiness follows the backend (issue 23 §1, §3, §4)."""

from __future__ import annotations

import json

import pytest

from system import System, dev_login, say
from system.processes import http_get
from tests.operations.prom import PROMETHEUS, Prometheus

pytestmark = pytest.mark.skipif(PROMETHEUS is None, reason="apt-get install prometheus")

STUDENT = "2025000005"
FAQ = "生源地是什么意思"
OUT_OF_SCOPE = "你能帮我订外卖吗"
STATUS = "查一下我的审核进度"
HANDOFF = "转人工"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prom-system")
    system = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log").start()
    prom = None
    try:
        prom = Prometheus(system.metrics_targets(), tmp)
        token = dev_login(system.backend_url, STUDENT)
        say(system.rest_webhook, "ops-faq", FAQ)
        say(system.rest_webhook, "ops-oos", OUT_OF_SCOPE)
        say(system.rest_webhook, f"ops-{STUDENT}", STATUS, token)
        say(system.rest_webhook, f"ops-{STUDENT}", HANDOFF, token)
        yield system, prom
    finally:
        if prom is not None:
            prom.stop()
        system.stop()


def test_every_process_is_scraped_and_ready(running):
    _, prom = running
    for job in ("zhineng-backend", "zhineng-rasa", "zhineng-actions"):
        assert prom.wait_value(f'up{{job="{job}"}}', lambda v: v == 1) == 1
        assert prom.wait_value(f'zhineng_ready{{job="{job}"}}', lambda v: v == 1) == 1
    assert {"ZhinengProcessDown", "ZhinengHandoffWaitTooLong", "ZhinengTurnLatencyHigh"} <= set(
        prom.rules_loaded()
    )


def test_turns_by_channel_intent_and_outcome(running):
    _, prom = running
    assert (
        prom.wait_value('sum(zhineng_rasa_turns_total{channel="rest", outcome="answered"})', lambda v: v >= 2)
        >= 2
    )
    assert (
        prom.wait_value(
            'zhineng_rasa_turns_total{channel="rest", intent="out_of_scope", outcome="fallback"}',
            lambda v: v == 1,
        )
        == 1
    )
    assert (
        prom.wait_value(
            'zhineng_rasa_turns_total{channel="rest", intent="handoff", outcome="handoff"}', lambda v: v == 1
        )
        == 1
    )
    turns = prom.value("sum(zhineng_rasa_turns_total)")
    assert turns >= 5  # the four turns and the launcher's warm-up
    assert prom.value("sum(zhineng_rasa_turn_duration_seconds_count)") == turns
    assert prom.value("zhineng_rasa_nlu_duration_seconds_count") >= turns
    assert prom.value("zhineng_rasa_active_conversations") >= 4
    # since the start (the turns may have come before Prometheus's first scrape: no rate to take)
    p95 = prom.value("histogram_quantile(0.95, sum by (le) (zhineng_rasa_turn_duration_seconds_bucket))")
    assert 0 < p95 < 15


def test_actions_backend_and_queue(running):
    _, prom = running
    # the status action ran and called the backend with the student's token
    assert (
        prom.wait_value('sum(zhineng_action_duration_seconds_count{action!="unknown"})', lambda v: v >= 2)
        >= 2
    )
    assert prom.value('zhineng_action_backend_calls_total{outcome="ok"}') >= 1
    assert prom.value("sum(zhineng_action_errors_total)") == 0
    # the backend by route template: the dev login, the turn log, the action's calls
    assert (
        prom.value('zhineng_backend_requests_total{route="/api/auth/dev-login", method="POST", status="200"}')
        == 1
    )
    assert (
        prom.wait_value(
            'sum(zhineng_backend_requests_total{route="/api/integration/turns", status="200"})',
            lambda v: v >= 1,
        )
        >= 1
    )
    assert prom.value("sum(zhineng_backend_request_duration_seconds_count)") >= 3
    # the student asked for a person: one waiting in the queue
    assert prom.wait_value("zhineng_handoff_waiting", lambda v: v == 1) == 1
    assert prom.value("zhineng_handoff_oldest_wait_seconds") >= 0
    assert prom.value('zhineng_outbox_backlog{outbox="notices"}') >= 0
    assert len(prom.query("zhineng_outbox_oldest_age_seconds")) == 2


def test_no_student_identifier_or_text_in_any_label(running):
    _, prom = running
    labels = prom.series('{__name__=~"zhineng_.+"}')
    assert len(labels) > 30
    values = json.dumps(labels, ensure_ascii=False)
    for secret in (STUDENT, "ops-", FAQ, OUT_OF_SCOPE, STATUS, HANDOFF, "审核"):
        assert secret not in values, secret


def test_readiness_follows_the_backend(running):
    """Last: stops the backend. Health stays 200 (alive); the action server is no longer ready, and
    Prometheus sees the backend down."""
    system, prom = running
    actions_ready = system.ops_url(system.actions_metrics_port, "/ready")
    assert http_get(actions_ready)[0] == 200
    system.stop_one("backend")
    status, body = http_get(actions_ready, timeout=10)
    assert status == 503 and "backend unreachable" in json.loads(body)["reason"]
    assert http_get(system.ops_url(system.actions_metrics_port, "/health"))[0] == 200
    assert prom.wait_value('up{job="zhineng-backend"}', lambda v: v == 0) == 0
    assert prom.wait_value('zhineng_ready{job="zhineng-actions"}', lambda v: v == 0) == 0

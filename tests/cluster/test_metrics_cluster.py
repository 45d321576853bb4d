"""A real Prometheus (Debian's package) scraping the cluster (issue 23 §3): every Rasa server, action server
and the backend (two workers, one operations port: prometheus_client's multiprocess mode) up and ready; turns
through the balancer counted on the server that took them; lock waits of the Redis lock store; the backend's
requests summed over its workers. Runs on the package's cluster (conftest.py)."""

from __future__ import annotations

import pytest

from system import say
from system.processes import http_get
from tests.operations.prom import PROMETHEUS, Prometheus

pytestmark = [pytest.mark.slow, pytest.mark.skipif(PROMETHEUS is None, reason="apt-get install prometheus")]


@pytest.fixture(scope="module")
def prom(cluster, tmp_path_factory):
    p = Prometheus(cluster.metrics_targets(), tmp_path_factory.mktemp("prom-cluster"))
    yield p
    p.stop()


def test_every_process_of_the_cluster_is_scraped_and_ready(cluster, prom):
    targets = cluster.metrics_targets()
    assert len(targets) == 1 + cluster.rasa_instances + cluster.action_servers
    n = prom.wait_value('sum(up{job=~"zhineng-.*"})', lambda v: v == len(targets), timeout=60)
    assert n == len(targets)
    assert prom.wait_value("sum(zhineng_ready)", lambda v: v == len(targets)) == len(targets)


def test_turns_through_the_balancer_land_on_both_servers(cluster, prom):
    before = prom.value('sum(zhineng_rasa_turns_total{channel="rest"})')
    for i in range(8):
        assert say(cluster.rest_webhook, f"metrics-cluster-{i}", "生源地是什么意思")
    after = prom.wait_value('sum(zhineng_rasa_turns_total{channel="rest"})', lambda v: v >= before + 8)
    assert after == before + 8
    per_server = prom.query('sum by (instance) (zhineng_rasa_turns_total{job="zhineng-rasa"})')
    assert len(per_server) == cluster.rasa_instances and all(float(r["value"][1]) > 0 for r in per_server)
    # every turn took its conversation's lock in Redis (bot/lock_store.py)
    assert prom.value('sum(zhineng_rasa_lock_wait_seconds_count{store="AtomicRedisLockStore"})') >= 8


def test_the_backends_workers_are_summed(cluster, prom):
    # a path no one else asks for (the action servers' /ready asks /api/health at every scrape)
    expr = 'sum(zhineng_backend_requests_total{route="unmatched", status="404"})'
    before = prom.value(expr)
    for i in range(30):  # uvicorn spreads them over its two workers
        assert http_get(f"{cluster.backend_url}/api/metrics-drill-{i}")[0] == 404
    assert prom.wait_value(expr, lambda v: v >= before + 30) == before + 30

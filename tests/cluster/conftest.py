"""One cluster for every test of tests/cluster (startup ~1 min): nginx round robin over two `rasa run`
servers, two action servers, Redis (lock store, channel state), the backend with two workers, PostgreSQL, and
the fake WeChat API for the counselors' replies (test_handoff_cluster.py). Needs redis-server, nginx and
TEST_POSTGRES_URL: skipped without them locally, required in CI (REQUIRE_CLUSTER=1 in .ci/run)."""

from __future__ import annotations

import os

import pytest

from system.cluster import Cluster, missing_binaries
from tests.channels.channels_harness import WECHAT_APPID, WECHAT_APPSECRET, FakeWeChatAPI

PG = os.environ.get("TEST_POSTGRES_URL", "")


def _why_not() -> str:
    missing = missing_binaries(need_postgres=False)
    if missing:
        return "apt-get install " + " ".join(missing)
    if not PG:
        return "TEST_POSTGRES_URL is not set"
    return ""


@pytest.fixture(scope="package")
def cluster(tmp_path_factory):
    """The running cluster; `cluster.wx` is the fake WeChat API its backend sends customer-service messages
    to. A test that stops or restarts a process starts it again before it ends."""
    why = _why_not()
    if why:
        if os.environ.get("REQUIRE_CLUSTER"):
            pytest.fail(f"REQUIRE_CLUSTER is set but the cluster cannot start: {why}")
        pytest.skip(f"cluster tests need redis-server, nginx and PostgreSQL: {why}")
    wx = FakeWeChatAPI().start()
    c = Cluster(
        rasa_instances=2,
        action_servers=2,
        backend_workers=2,
        database_url=PG,
        fresh_database=True,
        state_dir=tmp_path_factory.mktemp("cluster"),
        # a person in the chat at any hour; replies to WeChat go to the fake API, picked up quickly
        env={
            "HANDOFF_HOURS": "always",
            "WECHAT_APPID": WECHAT_APPID,
            "WECHAT_APPSECRET": WECHAT_APPSECRET,
            "WECHAT_API_BASE": wx.server.url,
            "HANDOFF_POLL_SECONDS": "0.3",
        },
    )
    c.start()
    c.wx = wx
    yield c
    c.stop()
    wx.close()

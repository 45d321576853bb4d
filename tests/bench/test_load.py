"""The load generator against a real HTTP server (the baseline on a small project)."""

import asyncio

import pytest

from bench.load import Scenario, percentile, run_load


def test_percentile():
    v = list(range(1, 101))
    assert percentile(v, 50) == 50 and percentile(v, 95) == 95 and percentile(v, 99) == 99
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) != percentile([], 50)  # NaN


def test_refuses_non_loopback():
    with pytest.raises(ValueError):
        asyncio.run(run_load("http://example.org/webhooks/rest/webhook", Scenario("x", ["hi"]), max_turns=1))


@pytest.fixture()
def server(baseline_url):  # noqa: F811
    return baseline_url + "/webhooks/rest/webhook"


def test_load_counts_turns_and_errors(server):
    ok = asyncio.run(
        run_load(
            server,
            Scenario("faq", ["推荐表丢了能补吗", "你好"], turns_per_conversation=3),
            concurrency=5,
            max_turns=60,
            max_seconds=30,
            progress=False,
        )
    )
    assert ok.turns == 60 and ok.errors == 0 and ok.concurrency == 5
    assert max(ok.seq) == 2  # conversations renewed every 3 turns
    s = ok.summary()
    assert 0 < s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] and s["turns_per_s"] > 0

    # empty replies (the baseline cannot run actions) and unexpected replies are errors
    bad = asyncio.run(
        run_load(server, Scenario("act", ["我的审核进度到哪了"]), concurrency=2, max_turns=10, progress=False)
    )
    assert bad.errors == 10 and "empty reply" in bad.error_samples[0]
    wrong = asyncio.run(
        run_load(server, Scenario("w", ["你好"], expect=["不会出现的词"]), max_turns=3, progress=False)
    )
    assert wrong.errors == 3

    # the time limit stops the run
    t = asyncio.run(
        run_load(
            server, Scenario("t", ["你好"]), concurrency=2, max_turns=10**6, max_seconds=1.0, progress=False
        )
    )
    assert t.errors == 0 and 0.9 < t.seconds < 3


def test_paused_conversations_wait_between_turns_but_latency_excludes_the_pause(server):
    r = asyncio.run(
        run_load(
            server,
            Scenario("p", ["你好"], pause_s=0.3),
            concurrency=2,
            max_turns=6,
            max_seconds=30,
            progress=False,
        )
    )
    assert r.turns == 6 and r.errors == 0
    assert r.seconds >= 0.15 * 3  # each of the 2 conversations paused 0.15-0.45 s after each of its 3 turns
    assert max(r.latencies_ms) < 300  # the pause is the person's time, not the server's

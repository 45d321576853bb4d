"""The soak step (bench/soak.py) against a real HTTP server (the baseline on a small project)."""

import asyncio

from bench.soak import soak


def test_soak_spreads_turns_over_new_senders_and_reads_rss(baseline_url):  # noqa: F811
    readings = iter(range(100 * 2**20, 10**12, 2**20))  # a fake RSS that grows by 1 MiB per reading
    r = asyncio.run(
        soak(
            baseline_url + "/webhooks/rest/webhook",
            ["推荐表丢了能补吗", "你好"],
            turns=50,
            senders=20,
            rss=lambda: next(readings),
            concurrency=4,
            warmup=10,
            samples=4,
            progress=False,
        )
    )
    assert r["turns"] == 50 and r["senders"] == 20 and r["errors"] == 0
    assert [c["senders"] for c in r["curve"]] == [5, 10, 15, 20] and r["curve"][-1]["turns"] == 50
    assert r["rss_after_mib"] > r["rss_before_mib"] and r["rss_growth_pct"] > 0
    assert 0 < r["p50_ms"] <= r["p95_ms"]

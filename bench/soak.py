"""Soak: many short anonymous conversations through the REST channel; Rasa's RSS before and after (issue 9
§5).

Anonymous senders are picked by the client, so their number has no bound: the tracker store keeps at most
TRACKER_HOT_CONVERSATIONS conversations in memory and the rest on disk (bot/tracker_store.py). This step sends
`turns` FAQ turns from `senders` distinct senders (each sender's turns back to back, 20 conversations at once)
and reads Rasa's RSS after a warm-up (before) and at the end (after), plus samples in between.

`make bench` runs it as its last load step (bench/run.py --soak-turns/--soak-senders). On its own, against
a fresh system (smaller sizes while developing):

    .venv/bin/python -m bench.soak --turns 5000 --senders 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.load import _check_loopback, percentile, reply_text

FAQ = [
    "推荐表丢了能补吗",
    "档案能寄给我妈妈收吗",
    "托管单位接收要交什么材料",
    "两级审核通过后多久同步到国家平台",
    "户口迁移地址有哪几种填法",
]
MIB = 2**20


async def soak(
    url: str,
    messages: list[str],
    turns: int,
    senders: int,
    rss: Callable[[], int],
    concurrency: int = 20,
    warmup: int = 500,
    samples: int = 10,
    timeout: float = 30.0,
    progress: bool = True,
) -> dict:
    """`turns` turns from `senders` new anonymous senders (turns spread evenly, each sender's back to
    back)."""
    _check_loopback(url)
    senders = max(1, min(senders, turns))
    run = uuid.uuid4().hex[:8]
    lat: list[float] = []
    errors: list[str] = []
    curve: list[dict] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def turn(sender: str, text: str) -> None:
            t0 = time.perf_counter()
            try:
                r = await client.post(url, json={"sender": sender, "message": text})
                ok = r.status_code == 200 and reply_text(r.json()).strip()
                err = None if ok else f"HTTP {r.status_code}: {r.text[:120]}"
            except (httpx.HTTPError, ValueError) as e:
                err = f"{type(e).__name__}: {e}"
            lat.append((time.perf_counter() - t0) * 1000)
            if err:
                errors.append(err)

        async def conversations(prefix: str, n_turns: int, n_senders: int, measure: bool) -> None:
            base, extra = divmod(n_turns, n_senders)  # the first `extra` senders get one turn more
            nxt = iter(range(n_senders))
            done = 0
            every = max(1, n_senders // samples)

            async def worker() -> None:
                nonlocal done
                for i in nxt:
                    for k in range(base + (1 if i < extra else 0)):
                        await turn(f"{prefix}-{i}", messages[(i + k) % len(messages)])
                    done += 1
                    if measure and done % every == 0:
                        curve.append({"senders": done, "turns": len(lat), "rss_mib": round(rss() / MIB, 1)})
                        if progress:
                            print(
                                f"  [soak] {done}/{n_senders} senders, {len(lat)} turns, "
                                f"RSS {curve[-1]['rss_mib']} MiB, errors {len(errors)}",
                                file=sys.stderr,
                                flush=True,
                            )

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        if warmup:
            await conversations(f"soak-warm-{run}", warmup, max(1, warmup * senders // turns), False)
        lat.clear()
        errors.clear()
        before = rss()
        t0 = time.perf_counter()
        await conversations(f"soak-{run}", turns, senders, True)
        secs = time.perf_counter() - t0
    after = rss()
    return {
        "turns": len(lat),
        "senders": senders,
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": round(secs, 1),
        "turns_per_s": round(len(lat) / secs, 1) if secs else 0.0,
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "rss_before_mib": round(before / MIB, 1),
        "rss_after_mib": round(after / MIB, 1),
        "rss_peak_mib": max([c["rss_mib"] for c in curve] + [round(after / MIB, 1)]),
        "rss_growth_pct": round((after - before) / before * 100, 1) if before else None,
        "curve": curve,
    }


def main(argv=None) -> int:
    from bench.resources import tree_rss
    from system import System

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=50000)
    ap.add_argument("--senders", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=500, help="turns before the first RSS reading")
    ap.add_argument("--model", type=Path)
    ap.add_argument("--env", action="append", default=[], help="K=V for the three processes (repeatable)")
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    env = dict(kv.split("=", 1) for kv in a.env)
    s = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log", env=env)
    try:
        s.start(model=a.model)
        pid = s.procs["rasa"].pid
        res = asyncio.run(
            soak(
                s.rest_webhook,
                FAQ,
                a.turns,
                a.senders,
                lambda: tree_rss(pid),
                concurrency=a.concurrency,
                warmup=a.warmup,
            )
        )
    finally:
        s.stop()
    print(json.dumps(res, ensure_ascii=False))
    print(
        f">> {res['turns']} turns from {res['senders']} anonymous senders in {res['seconds']} s "
        f"({res['turns_per_s']} turns/s, {res['errors']} errors): Rasa RSS {res['rss_before_mib']} -> "
        f"{res['rss_after_mib']} MiB ({res['rss_growth_pct']:+} %), peak {res['rss_peak_mib']} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

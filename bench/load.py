"""Async load generator for the REST channel: latency percentiles and sustained throughput.

N concurrent conversations each send turns back to back (closed loop), or after a pause that stands for the
person reading and typing (`pause_s`), until a turn count or a time limit is reached, whichever comes first.
A conversation is renewed (new sender id) every `turns_per_conversation` turns, as real conversations are
short; a turn is an error when the HTTP status is not 200, the request fails or times out, the reply is
empty, or (when `expect` is given) it contains none of the expected words.

Loopback only. Progress goes to stderr.

    .venv/bin/python -m bench.load --url http://127.0.0.1:8501/webhooks/rest/webhook \
        --message 推荐表丢了能补吗 --concurrency 20 --turns 400 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def reply_text(messages) -> str:
    parts = []
    for m in messages or []:
        if not isinstance(m, dict):
            continue
        if m.get("text"):
            parts.append(m["text"])
        parts += [str(b.get("title", "")) for b in m.get("buttons") or []]
        if m.get("custom") is not None:
            parts.append(json.dumps(m["custom"], ensure_ascii=False))
    return "\n".join(parts)


@dataclass
class Scenario:
    name: str
    messages: list[str]
    tokens: list[str] = field(default_factory=list)  # one per conversation, in turn; empty = anonymous
    expect: list[str] = field(default_factory=list)  # the reply must contain one of these (if given)
    turns_per_conversation: int = 10
    pause_s: float = 0.0  # mean pause of a person reading and typing between two turns (not in the latency);
    # each pause is drawn uniformly from 0.5-1.5 x pause_s (seeded), as people do not type in lockstep


@dataclass
class Result:
    scenario: str
    concurrency: int
    turns: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    seq: list[int]  # turn index within its conversation, parallel to latencies_ms
    error_samples: list[str]

    @property
    def throughput(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        lat = self.latencies_ms
        return {
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "turns": self.turns,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "turns_per_s": round(self.throughput, 1),
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(max(lat), 1) if lat else None,
            "error_samples": self.error_samples[:5],
        }

    def to_json(self) -> dict:
        return {**self.summary(), "latencies_ms": [round(x, 2) for x in self.latencies_ms], "seq": self.seq}


class _Progress:
    def __init__(self, label: str, total: int, seconds: float, enabled: bool):
        self.label, self.total, self.seconds, self.enabled = label, total, seconds, enabled
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.last_line = 0.0

    def show(self, done: int, errors: int, lat: list[float], final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and not self.tty and now - self.last_line < 5:
            return
        self.last_line = now
        el = now - self.t0
        recent = lat[-200:]
        line = (
            f"  [{self.label}] {done}/{self.total} turns, {el:4.0f}/{self.seconds:.0f}s, "
            f"{done / el if el else 0:6.1f} turns/s, p50 {percentile(recent, 50):6.1f} ms, errors {errors}"
        )
        if self.tty:
            print("\r" + line + ("\n" if final else ""), end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"load generator targets loopback only, not {host!r}")


async def run_load(
    url: str,
    scenario: Scenario,
    concurrency: int = 1,
    max_turns: int = 200,
    max_seconds: float = 60.0,
    warmup: int = 0,
    timeout: float = 30.0,
    progress: bool = True,
) -> Result:
    """Closed-loop load: `concurrency` conversations, until `max_turns` turns or `max_seconds`."""
    _check_loopback(url)
    run_id = uuid.uuid4().hex[:8]
    lat: list[float] = []
    seq: list[int] = []
    errors: list[str] = []
    issued = 0
    rng = random.Random(1)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def turn(sender: str, text: str, token: str | None) -> tuple[float, str | None]:
            body = {"sender": sender, "message": text, "metadata": {"token": token} if token else {}}
            t0 = time.perf_counter()
            try:
                r = await client.post(url, json=body)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    return ms, f"HTTP {r.status_code}: {r.text[:120]}"
                rep = reply_text(r.json())
            except (httpx.HTTPError, ValueError) as e:
                return (time.perf_counter() - t0) * 1000, f"{type(e).__name__}: {e}"
            if not rep.strip():
                return ms, f"empty reply to {text!r}"
            if scenario.expect and not any(w in rep for w in scenario.expect):
                return ms, f"unexpected reply to {text!r}: {rep[:120]!r}"
            return ms, None

        # Warm-up turns are not counted (first-call costs, connection set-up).
        for i in range(warmup):
            tok = scenario.tokens[i % len(scenario.tokens)] if scenario.tokens else None
            await turn(f"bench-warm-{run_id}-{i}", scenario.messages[i % len(scenario.messages)], tok)

        prog = _Progress(f"{scenario.name} x{concurrency}", max_turns, max_seconds, progress)
        deadline = time.monotonic() + max_seconds
        t_start = time.perf_counter()

        async def worker(w: int) -> None:
            nonlocal issued
            conv, k = 0, 0
            while issued < max_turns and time.monotonic() < deadline:
                issued += 1
                if k >= scenario.turns_per_conversation:
                    conv, k = conv + 1, 0
                # A new conversation is a new student too: signed-in turns are keyed to the token's subject.
                tok_i = w + conv * concurrency
                token = scenario.tokens[tok_i % len(scenario.tokens)] if scenario.tokens else None
                sender = f"bench-{scenario.name}-{run_id}-{w}-{conv}"
                text = scenario.messages[(w + conv + k) % len(scenario.messages)]
                ms, err = await turn(sender, text, token)
                lat.append(ms)
                seq.append(k)
                k += 1
                if err:
                    errors.append(err)
                if scenario.pause_s:
                    await asyncio.sleep(scenario.pause_s * rng.uniform(0.5, 1.5))

        async def ticker() -> None:
            while True:
                await asyncio.sleep(1.0)
                prog.show(len(lat), len(errors), lat)

        tick = asyncio.create_task(ticker())
        try:
            await asyncio.gather(*(worker(w) for w in range(concurrency)))
        finally:
            tick.cancel()
        elapsed = time.perf_counter() - t_start
        prog.show(len(lat), len(errors), lat, final=True)
    return Result(scenario.name, concurrency, len(lat), len(errors), elapsed, lat, seq, errors[:20])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="REST-channel load generator (loopback only)")
    ap.add_argument(
        "--url", required=True, help="REST webhook, e.g. http://127.0.0.1:5005/webhooks/rest/webhook"
    )
    ap.add_argument("--message", action="append", required=True, help="a message to send (repeatable)")
    ap.add_argument("--token", action="append", default=[], help="bearer token for the metadata (repeatable)")
    ap.add_argument("--expect", action="append", default=[], help="the reply must contain one of these")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--turns-per-conversation", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="mean seconds between a reply and the next turn (each drawn from 0.5-1.5x)",
    )
    ap.add_argument("--json", help="write the raw result here")
    a = ap.parse_args(argv)
    sc = Scenario("cli", a.message, a.token, a.expect, a.turns_per_conversation, a.pause)
    res = asyncio.run(run_load(a.url, sc, a.concurrency, a.turns, a.seconds, a.warmup))
    print(json.dumps(res.summary(), ensure_ascii=False, indent=1))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(res.to_json(), f)
    return 1 if res.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

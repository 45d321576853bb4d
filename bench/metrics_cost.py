"""The cost of the Prometheus metrics per turn (issue 23 §7; target <= 1 ms p50), measured on the code the
metrics add, in the processes' own interpreters:

- Rasa (its venv): per turn, the wrappers of ops/rasa_metrics.py around a real
  `MessageProcessor.handle_message` call path reduced to its metric work: the outcome of a real tracker's turn
  (contracts/outcome.py on the turn's events), the turn counter, the turn, NLU and lock-wait histograms, the
  active-conversation map;
- backend: backend/metrics.py's ASGI middleware around a no-op app, per request, times the backend requests of
  a turn (REQUESTS_PER_TURN: the NLG call of an answer, the turn log batch, an action's backend call);
- action server: one action histogram observation and a backend-call count per action turn.

A whole-system A/B would bury sub-millisecond costs in the run-to-run noise of a loaded machine
(bench/findings.md), so each part is timed directly (the wrappers' own call overhead, a few microseconds, is
not included): ROUNDS rounds of BATCH turns, p50/p95 of the per-turn cost over the rounds. `python -m
bench.metrics_cost` prints the table and writes its section of docs/benchmarks.md; `make bench` runs it after
bench.run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROUNDS, BATCH = 200, 50
REQUESTS_PER_TURN = 3  # an answer's NLG call, the turn log batch, an action's backend call


def _quantiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(0.95 * len(s)))]


def rasa_part() -> dict:
    """Run in Rasa's venv: the per-turn metric work of ops/rasa_metrics.py on a real tracker."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from ops import rasa_metrics

    tracker = DialogueStateTracker.from_events(
        "bench-sender",
        [
            ActionExecuted("action_session_start"),
            ActionExecuted("action_listen"),
            UserUttered(
                "学校平台怎么登录",
                {"name": "faq", "confidence": 0.97},
                parse_data={
                    "intent": {"name": "faq", "confidence": 0.97},
                    "entities": [],
                    "text": "学校平台怎么登录",
                    "response_selector": {},
                },
                input_channel="rest",
            ),
            ActionExecuted("utter_faq"),
            BotUttered("登录方式……", metadata={"utter_action": "utter_faq/login"}),
            ActionExecuted("action_listen"),
        ],
        slots=[],
    )
    box_var = rasa_metrics._saved

    def one_turn() -> None:
        box: list = []
        token = box_var.set(box)
        t0 = time.perf_counter()
        rasa_metrics.NLU_LATENCY.observe(time.perf_counter() - t0)
        rasa_metrics.LOCK_WAIT.labels("InMemoryLockStore").observe(time.perf_counter() - t0)
        box.append(tracker)
        box_var.reset(token)
        rasa_metrics.record_turn(box[-1], time.perf_counter() - t0)

    return {"rasa": _rounds(one_turn)}


def _rounds(fn) -> list[float]:
    for _ in range(BATCH):  # warm-up
        fn()
    out = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(BATCH):
            fn()
        out.append((time.perf_counter() - t0) / BATCH * 1000)  # ms per turn
    return out


def backend_part() -> list[float]:
    from backend import metrics

    async def noop(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(_msg):
        pass

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    wrapped = metrics.Middleware(noop)

    class Route:
        path = "/api/nlg"

    scope = {"type": "http", "method": "POST", "path": "/api/nlg", "route": Route()}
    loop = asyncio.new_event_loop()

    async def requests(app, n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    def rounds(app) -> list[float]:
        return _rounds(lambda: loop.run_until_complete(requests(app, REQUESTS_PER_TURN)))

    bare, timed = rounds(noop), rounds(wrapped)
    loop.close()
    return [max(0.0, t - b) for t, b in zip(sorted(timed), sorted(bare), strict=False)]


def actions_part() -> list[float]:
    from ops import actions_metrics

    def one() -> None:
        t0 = time.perf_counter()
        actions_metrics.BACKEND_CALLS.labels("ok").inc()
        actions_metrics.ACTION_LATENCY.labels("action_check_status").observe(time.perf_counter() - t0)

    return _rounds(one)


def measure() -> dict:
    from system import RASA_PY, ROOT

    out = subprocess.run(
        [str(RASA_PY), "-m", "bench.metrics_cost", "--rasa-part"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    rasa = json.loads(out.stdout.strip().splitlines()[-1])["rasa"]
    backend, actions = backend_part(), actions_part()
    total = [r + b + a for r, b, a in zip(sorted(rasa), sorted(backend), sorted(actions), strict=False)]
    return {
        name: dict(zip(("p50_ms", "p95_ms"), (round(x, 4) for x in _quantiles(v)), strict=False))
        for name, v in (("rasa", rasa), ("backend", backend), ("actions", actions), ("turn", total))
    }


BEGIN, END = "<!-- metrics-cost:begin -->", "<!-- metrics-cost:end -->"


def table(result: dict) -> str:
    rows = [
        ("Rasa: outcome, turn counter, turn/NLU/lock histograms, active map", "rasa"),
        (f"backend: middleware x {REQUESTS_PER_TURN} requests", "backend"),
        ("action server: action histogram, backend-call counter", "actions"),
        ("**a turn (sum)**", "turn"),
    ]
    met = "yes" if result["turn"]["p50_ms"] <= 1.0 else "**no**"
    lines = [
        BEGIN,
        "",
        "## Metrics: cost per turn (issue 23)",
        "",
        f"`python -m bench.metrics_cost` (a step of `make bench`): {ROUNDS} rounds of {BATCH} turns, the "
        "code the metrics add timed in each process's interpreter. Target: a turn <= 1 ms p50 "
        f"(met: {met}).",
        "",
        "| part | p50 ms | p95 ms |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {label} | {result[k]['p50_ms']:.4f} | {result[k]['p95_ms']:.4f} |" for label, k in rows]
    return "\n".join(lines + ["", END])


def write_doc(result: dict) -> None:
    from system import ROOT

    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8")
    section = table(result)
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rasa-part", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    a = ap.parse_args(argv)
    if a.rasa_part:
        print(json.dumps(rasa_part()))
        return 0
    result = measure()
    print(table(result))
    if not a.no_doc:
        write_doc(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

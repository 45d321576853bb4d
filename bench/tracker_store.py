"""A/B of tracker stores (Rasa's in-memory, ours in bot/tracker_store.py, Rasa's SQL on SQLite):
short-conversation latency, throughput, and the cost of a long history for a student who comes back
(bench/findings.md, items 4, 6).

Per variant, on a fresh system (same model): FAQ turns with 1 conversation, signed-in action turns with 1
conversation, mixed turns with 20 conversations for a fixed time, then one "returning student" conversation:
`--history` FAQ turns in one session (within-session growth: first vs last 50 turns), a new session started
through the tracker API (as `action_session_start` does when a student comes back after
`session_expiration_time`), then 50 more turns in the new session.

    .venv/bin/python -m bench.tracker_store --variant memory --variant inprocess --variant sql --history 300
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.experiment import ACTION, FAQ, MIXED, VariantSystem, run_plan, start_with_students
from bench.load import Scenario, percentile
from bench.report import save_results
from system import http_post, latest_model

# "memory": Rasa's stock InMemoryTrackerStore (no tracker_store entry); "inprocess": bot/endpoints.yml as
# shipped
STOCK_ENDPOINTS = """action_endpoint:
  url: ${ACTION_ENDPOINT_URL}
"""
SQL_ENDPOINTS = (
    STOCK_ENDPOINTS
    + """tracker_store:
  type: SQL
  dialect: sqlite
  db: ${RASA_TRACKER_DB}
"""
)


def new_session(system, sender: str) -> None:
    now = time.time()
    # what Rasa appends when a session expires: action_session_start, session_started, (slots), action_listen
    status, body = http_post(
        system.rasa_api_url(f"/conversations/{sender}/tracker/events"),
        [
            {"event": "action", "name": "action_session_start", "timestamp": now},
            {"event": "session_started", "timestamp": now},
            {"event": "action", "name": "action_listen", "timestamp": now},
        ],
    )
    if status != 200:
        raise RuntimeError(f"append events: {status} {body}")


def run_variant(name: str, model: Path, seconds: float, history: int, growth_only: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"tstore-{name}-"))
    endpoints = "bot/endpoints.yml"
    env = {"RASA_TRACKER_DB": str(tmp / "tracker.db")}
    if name in ("memory", "sql"):
        endpoints = str(tmp / "endpoints.yml")
        Path(endpoints).write_text(SQL_ENDPOINTS if name == "sql" else STOCK_ENDPOINTS)
    s = VariantSystem(
        database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log", env=env, endpoints=endpoints
    )
    out: dict = {"variant": name, "runs": []}
    try:
        tokens = start_with_students(s, model, 30, tmp)
        plan = [
            (Scenario("faq", FAQ), 1, 200),
            (Scenario("action", ACTION, tokens=tokens), 1, 150),
            (Scenario("mixed", MIXED, tokens=tokens), 20, 10**7),
        ]
        if not growth_only:
            out["runs"] = run_plan(s, plan, seconds, name)
        if history:
            sender = f"tstore-returning-{name}"

            async def turns(n: int) -> list[float]:
                import httpx

                lat = []
                async with httpx.AsyncClient(timeout=60) as c:
                    for i in range(n):
                        t0 = time.perf_counter()
                        r = await c.post(
                            s.rest_webhook, json={"sender": sender, "message": FAQ[i % len(FAQ)]}
                        )
                        lat.append((time.perf_counter() - t0) * 1000)
                        if r.status_code != 200 or not r.json():
                            raise RuntimeError(f"turn {i}: {r.status_code} {r.text[:200]}")
                return lat

            first = asyncio.run(turns(history))
            new_session(s, f"anon:{sender}")
            after = asyncio.run(turns(50))
            g = {
                "history_turns": history,
                "first50_p50_ms": round(percentile(first[:50], 50), 1),
                "last50_p50_ms": round(percentile(first[-50:], 50), 1),
                "new_session_p50_ms": round(percentile(after, 50), 1),
                "new_session_p95_ms": round(percentile(after, 95), 1),
            }
            out["growth"] = g
            print(
                f"   {name:>7} growth: first 50 p50 {g['first50_p50_ms']} ms, last 50 p50 "
                f"{g['last50_p50_ms']} ms, next session p50 {g['new_session_p50_ms']} / p95 "
                f"{g['new_session_p95_ms']} ms",
                flush=True,
            )
    finally:
        s.stop()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--variant", action="append", choices=["memory", "inprocess", "sql"], required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--history", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--growth-only", action="store_true", help="only the returning-student conversation")
    a = ap.parse_args(argv)
    model = a.model or latest_model()
    results = []
    for rnd in range(a.rounds):
        for v in a.variant:
            print(f">> round {rnd + 1}, tracker store {v}", flush=True)
            results.append(run_variant(v, model, a.seconds, a.history, a.growth_only))
    print(f">> results/{save_results(results, 'tracker-store-{stamp}.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

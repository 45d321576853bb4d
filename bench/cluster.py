"""Cluster step of `make bench` (issue 13): throughput and p95 with 1 and 2 Rasa servers, CPU per turn.

Three configurations on this machine, same load (bench/load.py, closed loop):
- `embedded`: `make run`'s single process (SQLite tracker with the in-memory hot tier, in-process lock);
- `cluster, 1 Rasa`: the cluster (scripts/cluster.py: PostgreSQL tracker store with the hot tier off, Redis lock
  store and channel state, 2 action servers, backend with 2 workers), load sent to one Rasa server;
- `cluster, 2 Rasa`: the same cluster, load through nginx (round robin over both servers).
For each: FAQ turns from 20 anonymous conversations, and signed-in action turns from 4 students; turns/s, p50,
p95, and CPU ms per turn of every process group (from /proc), with the machine's CPU use during the run.

    .venv/bin/python -m bench.cluster [--seconds 30]    (make bench CLUSTER=1, or make bench-cluster)

PostgreSQL: CLUSTER_DATABASE_URL or TEST_POSTGRES_URL (a fresh database in it), else the cluster's own in
var/cluster/pg. Results: results/cluster.json and the table between the markers in docs/scaling.md.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.load import Scenario, run_load
from bench.profile import tree_cpu
from bench.resources import machine
from scripts.cluster import Cluster
from scripts.system import ROOT, System, dev_login

FAQ = ["推荐表丢了能补吗", "档案能寄给我妈妈收吗", "两级审核通过后多久同步到国家平台", "公司没换，就是单位详细地址填错了"]
ACTION = ["我的审核进度到哪了", "查一下我的办理进度", "学校审核完了没"]
STUDENTS = ["2025000002", "2025000003", "2025000004", "2025000005"]
START, END = "<!-- cluster-bench:start -->", "<!-- cluster-bench:end -->"


def _postgres_pids() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]


def measure(label: str, url: str, groups: dict, tokens: list[str], seconds: float) -> list[dict]:
    """FAQ (20 conversations) and action (one per student) load against `url`; CPU per turn per group."""
    out = []
    for name, scen, conc in (("faq", Scenario("faq", FAQ, turns_per_conversation=10), 20),
                             ("action", Scenario("action", ACTION, tokens=tokens, turns_per_conversation=10**6),
                              len(tokens))):
        pids = {g: list(ps) for g, ps in groups.items()}
        pids["postgres"] = _postgres_pids()
        before = {g: sum(tree_cpu(p) for p in ps) for g, ps in pids.items()}
        psutil.cpu_percent(None)
        r = asyncio.run(run_load(url, scen, conc, 10**7, seconds, warmup=10, progress=False))
        busy = psutil.cpu_percent(None)
        after = {g: sum(tree_cpu(p) for p in ps) for g, ps in pids.items()}
        s = r.summary()
        cpu = {g: round((after[g] - before[g]) * 1000 / max(1, r.turns), 1) for g in pids}
        row = {"config": label, "scenario": name, "concurrency": conc, "turns": r.turns, "errors": r.errors,
               "turns_per_s": s["turns_per_s"], "p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"],
               "machine_cpu_pct": busy, "cpu_ms_per_turn": cpu, "error_samples": s["error_samples"][:2]}
        print(f"   {label:<16} {name:<6} x{conc:<2} {s['turns_per_s']:6.1f} turns/s  p50 {s['p50_ms']:6.1f} ms  "
              f"p95 {s['p95_ms']:6.1f} ms  errors {r.errors}  CPU {busy:.0f}%  ms/turn {cpu}", flush=True)
        out.append(row)
    return out


def run(seconds: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    rows: list[dict] = []
    print(">> cluster bench: embedded (make run's single process)", flush=True)
    system = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log-embedded")
    try:
        system.start()
        tokens = [dev_login(system.backend_url, s) for s in STUDENTS]
        groups = {"rasa": [system.procs["rasa"].pid], "actions": [system.procs["actions"].pid],
                  "backend": [system.procs["backend"].pid]}
        rows += measure("embedded", system.rest_webhook, groups, tokens, seconds)
    finally:
        system.stop()

    pg = os.environ.get("CLUSTER_DATABASE_URL") or os.environ.get("TEST_POSTGRES_URL") or ""
    print(">> cluster bench: 2 Rasa servers, 2 action servers, backend x2 workers, Redis, nginx, PostgreSQL",
          flush=True)
    cluster = Cluster(rasa_instances=2, action_servers=2, backend_workers=2, database_url=pg,
                      fresh_database=bool(pg), state_dir=tmp / "cluster")
    try:
        cluster.start()
        tokens = [dev_login(cluster.backend_url, s) for s in STUDENTS]
        p = cluster.sys.procs
        common = {"actions": [p["actions-1"].pid, p["actions-2"].pid], "backend": [p["backend"].pid],
                  "redis": [p["redis"].pid], "nginx": [p["nginx"].pid]}
        rows += measure("cluster, 1 Rasa", f"{cluster.rasa_url(0)}/webhooks/rest/webhook",
                        {"rasa": [p["rasa-1"].pid, p["rasa-2"].pid], **common}, tokens, seconds)
        rows += measure("cluster, 2 Rasa", cluster.rest_webhook,
                        {"rasa": [p["rasa-1"].pid, p["rasa-2"].pid], **common}, tokens, seconds)
    finally:
        cluster.stop()
    return {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), "seconds_per_run": seconds,
            "machine": machine(), "rows": rows}


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = [f"Measured {res['date']} on {m['cores']} cores ({m['cpu']}), {res['seconds_per_run']:.0f} s per run "
             "(`python -m bench.cluster`). CPU ms per turn: CPU time of each process group during the run divided "
             "by the turns (postgres: every PostgreSQL process of the machine).", "",
             "| configuration | turns | conc. | turns/s | p50 ms | p95 ms | errors | machine CPU | CPU ms/turn: "
             "Rasa | actions | backend | PostgreSQL | Redis | nginx |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in res["rows"]:
        c = r["cpu_ms_per_turn"]
        lines.append(f"| {r['config']} | {r['scenario']} | {r['concurrency']} | {r['turns_per_s']} | {r['p50_ms']} | "
                     f"{r['p95_ms']} | {r['errors']} | {r['machine_cpu_pct']:.0f} % | {c.get('rasa', '-')} | "
                     f"{c.get('actions', '-')} | {c.get('backend', '-')} | {c.get('postgres', '-')} | "
                     f"{c.get('redis', '-')} | {c.get('nginx', '-')} |")
    return "\n".join(lines)


def write_docs(res: dict, path: Path) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Scaling\n\n{START}\n{END}\n"
    block = f"{START}\n{markdown(res)}\n{END}"
    text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S) \
        if START in text else text + "\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30, help="seconds per load run (6 runs)")
    ap.add_argument("--no-docs", action="store_true", help="write results/cluster.json only")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    res = run(a.seconds)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "cluster.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    if not a.no_docs:
        write_docs(res, ROOT / "docs" / "scaling.md")
    print(f">> cluster bench done in {time.monotonic() - t0:.0f}s: results/cluster.json"
          + ("" if a.no_docs else ", docs/scaling.md"), flush=True)
    return 1 if any(r["errors"] for r in res["rows"]) else 0


if __name__ == "__main__":
    sys.exit(main())

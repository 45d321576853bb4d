"""Cluster step of `make bench` (issue 13): throughput and p95 with 1 and 2 Rasa servers, CPU per turn.

Three configurations on this machine, same load (bench/load.py, closed loop):
- `embedded`: `make run`'s single process (SQLite tracker with the in-memory hot tier, in-process lock);
- `cluster, 1 Rasa`: the cluster (system/cluster.py: PostgreSQL tracker store with the hot tier off, Redis
  lock store and channel state, 2 action servers, backend with 2 workers), load sent to one Rasa server;
- `cluster, 2 Rasa`: the same cluster, load through nginx (round robin over both servers).
For each: FAQ turns from 20 anonymous conversations, and signed-in action turns from 4 conversations at once
(10 turns each, every conversation a student of its own: a signed-in conversation is keyed to the student, and
a long one costs more per turn); turns/s, p50, p95, and CPU ms per turn of every process group (from /proc),
with the machine's CPU use during the run.

    .venv/bin/python -m bench.cluster [--seconds 30]    (make bench CLUSTER=1, or make bench-cluster)

PostgreSQL: CLUSTER_DATABASE_URL or TEST_POSTGRES_URL (a fresh database in it), else the cluster's own in
var/cluster/pg. Results: results/cluster.json and the table between the markers in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.load import Scenario, run_load
from bench.profile import tree_cpu
from bench.report import save_results
from bench.resources import machine
from system import ROOT, System, dev_login
from system.cluster import Cluster

FAQ = [
    "推荐表丢了能补吗",
    "档案能寄给我妈妈收吗",
    "两级审核通过后多久同步到国家平台",
    "公司没换，就是单位详细地址填错了",
]
ACTION = ["我的审核进度到哪了", "查一下我的办理进度", "学校审核完了没"]
N_STUDENTS = 150  # roster students imported per configuration: each signed-in conversation is a new student
START, END = "<!-- cluster-bench:start -->", "<!-- cluster-bench:end -->"


def _postgres_pids() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]


def students(system: System, tmp: Path) -> list[str]:
    """Tokens of N_STUDENTS roster students imported through the backend (as bench/run.py does)."""
    from bench.workload import add_students

    return [dev_login(system.backend_url, s) for s in add_students(system, N_STUDENTS, tmp)]


def measure(label: str, url: str, groups: dict, tokens: list[str], seconds: float) -> list[dict]:
    """FAQ (20 conversations) and action (one per student) load against `url`; CPU per turn per group."""
    out = []
    for name, scen, conc in (
        ("faq", Scenario("faq", FAQ, turns_per_conversation=10), 20),
        ("action", Scenario("action", ACTION, tokens=tokens, turns_per_conversation=10), 4),
    ):
        pids = {g: list(ps) for g, ps in groups.items()}
        pids.setdefault("postgres", _postgres_pids())
        before = {g: sum(tree_cpu(p) for p in ps) for g, ps in pids.items()}
        psutil.cpu_percent(None)
        r = asyncio.run(run_load(url, scen, conc, 10**7, seconds, warmup=10, progress=False))
        busy = psutil.cpu_percent(None)
        after = {g: sum(tree_cpu(p) for p in ps) for g, ps in pids.items()}
        s = r.summary()
        cpu = {g: round((after[g] - before[g]) * 1000 / max(1, r.turns), 1) for g in pids if pids[g]}
        row = {
            "config": label,
            "scenario": name,
            "concurrency": conc,
            "turns": r.turns,
            "errors": r.errors,
            "turns_per_s": s["turns_per_s"],
            "p50_ms": s["p50_ms"],
            "p95_ms": s["p95_ms"],
            "machine_cpu_pct": busy,
            "cpu_ms_per_turn": cpu,
            "error_samples": s["error_samples"][:2],
        }
        print(
            f"   {label:<16} {name:<6} x{conc:<2} {s['turns_per_s']:6.1f} turns/s  p50 {s['p50_ms']:6.1f} ms "
            f" p95 {s['p95_ms']:6.1f} ms  errors {r.errors}  CPU {busy:.0f}%  ms/turn {cpu}",
            flush=True,
        )
        out.append(row)
    return out


def run(seconds: float, tf_threads: int = 0) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    rows: list[dict] = []
    print(">> cluster bench: embedded (make run's single process)", flush=True)
    system = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log-embedded")
    try:
        system.start()
        tokens = students(system, tmp)
        groups = {
            "rasa": [system.procs["rasa"].pid],
            "actions": [system.procs["actions"].pid],
            "backend": [system.procs["backend"].pid],
            "postgres": [],
        }  # SQLite, inside Rasa
        rows += measure("embedded", system.rest_webhook, groups, tokens, seconds)
    finally:
        system.stop()

    # its own PostgreSQL (var/bench-cluster/pg) unless CLUSTER_DATABASE_URL: its CPU is then this bench's
    # alone
    pg = os.environ.get("CLUSTER_DATABASE_URL") or ""
    env = (
        {
            "TF_INTRA_OP_PARALLELISM_THREADS": str(tf_threads),
            "TF_INTER_OP_PARALLELISM_THREADS": str(tf_threads),
        }
        if tf_threads
        else {}
    )
    print(
        ">> cluster bench: 2 Rasa servers, 2 action servers, backend x2 workers, Redis, nginx, PostgreSQL"
        + (f", TensorFlow {tf_threads} thread(s) per Rasa server" if tf_threads else ""),
        flush=True,
    )
    if not pg:  # a fresh PostgreSQL cluster each run: no conversations or students of an earlier run
        import shutil

        shutil.rmtree(ROOT / "var" / "bench-cluster", ignore_errors=True)
    cluster = Cluster(
        rasa_instances=2,
        action_servers=2,
        backend_workers=2,
        database_url=pg,
        fresh_database=bool(pg),
        env=env,
        state_dir=tmp / "cluster" if pg else ROOT / "var" / "bench-cluster",
        pg_port=55434,
    )
    try:
        cluster.start()
        tokens = students(cluster.sys, tmp)
        p = cluster.sys.procs
        common = {
            "actions": [p["actions-1"].pid, p["actions-2"].pid],
            "backend": [p["backend"].pid],
            "redis": [p["redis"].pid],
            "nginx": [p["nginx"].pid],
        }
        if cluster.postgres_pid:
            common["postgres"] = [cluster.postgres_pid]
        rows += measure(
            "cluster, 1 Rasa",
            f"{cluster.rasa_url(0)}/webhooks/rest/webhook",
            {"rasa": [p["rasa-1"].pid, p["rasa-2"].pid], **common},
            tokens,
            seconds,
        )
        rows += measure(
            "cluster, 2 Rasa",
            cluster.rest_webhook,
            {"rasa": [p["rasa-1"].pid, p["rasa-2"].pid], **common},
            tokens,
            seconds,
        )
    finally:
        cluster.stop()
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "seconds_per_run": seconds,
        "tf_threads": tf_threads,
        "postgres_own": not pg,
        "machine": machine(),
        "rows": rows,
    }


def markdown(res: dict) -> str:
    m = res["machine"]
    pg = (
        "the cluster's own PostgreSQL"
        if res.get("postgres_own")
        else "every PostgreSQL process of the machine"
    )
    tf = res.get("tf_threads") or "TensorFlow's default number of"
    lines = [
        f"Measured {res['date']} on {m['cores']} cores ({m['cpu']}), {res['seconds_per_run']:.0f} s per run "
        f"(`python -m bench.cluster`; cluster Rasa servers with {tf} TensorFlow thread(s)). CPU ms per turn: "
        f"CPU time of each process group during the run divided by the turns (PostgreSQL: {pg}; embedded "
        "uses SQLite inside the Rasa process).",
        "",
        "| configuration | turns of | conc. | turns/s | p50 ms | p95 ms | errors | machine CPU | CPU "
        "ms/turn: Rasa | actions | backend | PostgreSQL | Redis | nginx |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in res["rows"]:
        c = r["cpu_ms_per_turn"]
        lines.append(
            f"| {r['config']} | {r['scenario']} | {r['concurrency']} | {r['turns_per_s']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['errors']} | {r['machine_cpu_pct']:.0f} % | {c.get('rasa', '-')} | "
            f"{c.get('actions', '-')} | {c.get('backend', '-')} | {c.get('postgres', '-')} | "
            f"{c.get('redis', '-')} | {c.get('nginx', '-')} |"
        )
    return "\n".join(lines)


def write_docs(res: dict, path: Path) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Scaling\n\n{START}\n{END}\n"
    block = f"{START}\n{markdown(res)}\n{END}"
    text = (
        re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
        if START in text
        else text + "\n" + block + "\n"
    )
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30, help="seconds per load run (6 runs)")
    ap.add_argument("--no-docs", action="store_true", help="write results/cluster.json only")
    ap.add_argument(
        "--tf-threads",
        type=int,
        default=1,
        help="TensorFlow threads per Rasa server of the cluster (0: TensorFlow's default, one per core)",
    )
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    res = run(a.seconds, a.tf_threads)
    save_results(res, "cluster.json")
    if not a.no_docs:
        write_docs(res, ROOT / "docs" / "scaling.md")
    print(
        f">> cluster bench done in {time.monotonic() - t0:.0f}s: results/cluster.json"
        + ("" if a.no_docs else ", docs/scaling.md"),
        flush=True,
    )
    return 1 if any(r["errors"] for r in res["rows"]) else 0


if __name__ == "__main__":
    sys.exit(main())

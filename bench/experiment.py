"""A/B runs of candidate performance fixes without touching the tree: same model, same load, one change each.

A variant may put a directory first on the Rasa/action server's PYTHONPATH (e.g. a sitecustomize.py that
patches a library), replace bot/endpoints.yml, set environment variables, or use a different model.

    .venv/bin/python -m bench.experiment --model models/x.tar.gz \
        --variant base --variant "keepalive:pythonpath=/tmp/patch" --variant "selective:endpoints=/tmp/ep.yml"

Each variant: fresh system (system/), then FAQ 1 conversation, action 1 conversation, mixed
20 conversations for a fixed time. Prints a table and writes results/experiment-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.load import Scenario, run_load
from bench.report import save_results
from system import System, dev_login, latest_model

FAQ = [
    "推荐表丢了能补吗",
    "档案能寄给我妈妈收吗",
    "托管单位接收要交什么材料",
    "两级审核通过后多久同步到国家平台",
    "户口迁移地址有哪几种填法",
]
ACTION = ["我的审核进度到哪了", "查一下我的办理进度", "学校审核完了没"]
MIXED = [m for pair in zip(FAQ, ACTION, strict=False) for m in pair]


@dataclass
class VariantSystem(System):
    pythonpath: str = ""
    endpoints: str = "bot/endpoints.yml"
    rasa_api: bool = True  # the bench tools read trackers (with the per-run API token)

    def child_env(self) -> dict:
        env = super().child_env()
        if self.pythonpath:
            env["PYTHONPATH"] = f"{self.pythonpath}:{env['PYTHONPATH']}"
        return env


def parse_variant(spec: str) -> dict:
    name, _, rest = spec.partition(":")
    v = {"name": name, "env": {}}
    for item in filter(None, rest.split(",")):
        k, _, val = item.partition("=")
        if k in ("pythonpath", "endpoints", "model"):
            v[k] = val
        else:
            v["env"][k] = val
    return v


def start_with_students(s: VariantSystem, model: Path, students: int, tmp: Path) -> list[str]:
    """Seeded database plus `students` roster-imported students, then the three servers; -> one token each."""
    from bench.workload import SEEDED, add_students  # the same extra students as make bench

    s.prepare_database(seed=True)
    ids = SEEDED + add_students(s, students, tmp)
    s.start_backend()
    s.start_actions()
    s.start_rasa(model, endpoints=s.endpoints)
    return [dev_login(s.backend_url, i) for i in ids]


def run_plan(s: VariantSystem, plan: list, seconds: float, label: str) -> list[dict]:
    """Each (scenario, conversations, max turns) of the plan for at most `seconds`; prints a line each."""
    runs = []
    for sc, conc, turns in plan:
        r = asyncio.run(run_load(s.rest_webhook, sc, conc, turns, seconds, warmup=5))
        sm = r.summary()
        runs.append(sm)
        print(
            f"   {label:>12} {sc.name:>6} x{conc:<2} p50 {sm['p50_ms']:7.1f} p95 {sm['p95_ms']:7.1f} "
            f"{r.throughput:6.1f}/s err {r.errors}",
            flush=True,
        )
    return runs


def run_variant(v: dict, model: Path, seconds: float, students: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"exp-{v['name']}-"))
    s = VariantSystem(
        database_url=f"sqlite:///{tmp / 'app.db'}",
        log_dir=tmp / "log",
        env=v["env"],
        pythonpath=v.get("pythonpath", ""),
        endpoints=v.get("endpoints", "bot/endpoints.yml"),
    )
    out = {"variant": v, "runs": []}
    try:
        tokens = start_with_students(s, Path(v.get("model") or model), students, tmp)
        plan = [
            (Scenario("faq", FAQ), 1, 200),
            (Scenario("action", ACTION, tokens=tokens), 1, 200),
            (Scenario("faq", FAQ), 20, 10**7),
            (Scenario("action", ACTION, tokens=tokens), 20, 10**7),
            (Scenario("mixed", MIXED, tokens=tokens), 20, 10**7),
        ]
        out["runs"] = run_plan(s, plan, seconds, v["name"])
    finally:
        s.stop()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument(
        "--variant", action="append", required=True, help="name[:pythonpath=DIR,endpoints=FILE,K=V]"
    )
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=1, help="alternate the variants this many times")
    a = ap.parse_args(argv)
    model = a.model or latest_model()
    results = []
    for rnd in range(a.rounds):
        for spec in a.variant:
            v = parse_variant(spec)
            print(f">> round {rnd + 1}, variant {v['name']}", flush=True)
            results.append(run_variant(v, model, a.seconds, a.students))
    print(f">> results/{save_results(results, 'experiment-{stamp}.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

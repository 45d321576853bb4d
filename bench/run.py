"""`make bench`: accuracy, latency, throughput and resources of the assistant, against a retrieval baseline.

Steps (each prints progress; the long ones stream it):
  1. train once more into a temporary directory to time it (`rasa train --force`), peak memory polled;
  2. start backend, action server and Rasa with the launcher library (system/; free loopback ports, fresh
     seeded temporary database), timing each start-up; start the baseline (bench/baseline.py);
  3. run the evaluation set (eval/cases/*.jsonl + ../shared/eval/sample_cases.jsonl where present) through
     eval/chat_eval.py against the assistant and against the baseline;
  4. load through the REST channel (bench/load.py): FAQ and action turns with 1 and 20 conversations, action
     turns with 20 conversations pausing ~1 s between turns, mixed throughput with 20, one long
     conversation (tracker growth), and a soak of 50 000 turns from 20 000 anonymous senders (bench/soak.py:
     Rasa's RSS before and after);
  5. stop everything, then NLU cross-validation (`rasa test nlu --cross-validation`);
  6. the cost of the NLG endpoint and the turn log per FAQ turn (bench/nlg_cost.py: three systems side by
     side);
  7. write results/bench-*.json, docs/benchmarks.md and docs/latency.png.

`python -m bench.run --only nlg` runs step 6 alone and updates results/latest.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import accuracy, nlg_cost, report
from bench.load import Scenario, percentile, run_load
from bench.resources import MemoryMonitor, cpu_busy_percent, machine, run_measured, tree_rss
from bench.soak import soak
from bench.workload import SEEDED, add_students, choose_messages
from system import RASA, ROOT, VENV_PY, System, dev_login, free_port, latest_model

# Roster-imported students for the load steps: every signed-in conversation of a load step is a student of its
# own, who has not chatted before in the run (a real student's 30-minute session, not one that has grown
# through every earlier step). The time-bounded mixed step gets enough for MAX_TURNS_PER_S; the default plan
# then needs ~690 (26 + 105 + 85 + 475); beyond, students repeat.
MAX_TURNS_PER_S = 100
EXTRA_STUDENTS = 900


def step(msg: str) -> None:
    print(f"\n>> {msg}", flush=True)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return "?"


# --- steps --------------------------------------------------------------------------------------------------
def train_timed(monitor: MemoryMonitor, out_dir: Path, res: dict) -> Path | None:
    step("training time: rasa train --force into a temporary directory (progress below)")
    # its own training cache: this run must not evict what `make train` cached in .rasa/ (1 GB cap)
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_CACHE_DIRECTORY=str(out_dir.parent / "rasa-cache"))
    rc, secs = run_measured(
        "train",
        [
            str(RASA),
            "train",
            "--force",
            "--config",
            "bot/config.yml",
            "--domain",
            "bot/domain",
            "--data",
            "data",
            "--out",
            str(out_dir),
        ],
        monitor,
        ROOT,
        env,
    )
    if rc != 0:
        raise RuntimeError("rasa train failed")
    res["resources"]["train_s"] = round(secs, 1)
    print(f"   trained in {secs:.0f}s, peak RSS {monitor.peak_mib().get('train')} MiB", flush=True)
    models = sorted(out_dir.glob("*.tar.gz"))
    return models[-1] if models else None


def start_all(system: System, model: Path | None, res: dict, tmp: Path) -> list[str]:
    step("starting backend, action server and Rasa (system/)")
    su = res["resources"]["startup_s"]
    system.prepare_database(seed=True)
    extra = add_students(system, EXTRA_STUDENTS, tmp)
    for name, fn in (
        ("backend", system.start_backend),
        ("actions", system.start_actions),
        ("rasa", lambda: system.start_rasa(model)),
    ):
        t0 = time.monotonic()
        fn()
        su[name] = round(time.monotonic() - t0, 2)
        print(f"   {name} ready in {su[name]:.1f}s", flush=True)
    return SEEDED + extra


def start_baseline(system: System, res: dict) -> str:
    port = free_port()
    t0 = time.monotonic()
    system._spawn("baseline", [str(VENV_PY), "-m", "bench.baseline", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    system._wait("baseline", url + "/", 60)
    res["resources"]["startup_s"]["baseline"] = round(time.monotonic() - t0, 2)
    return url


def load_runs(system: System, picked: dict, tokens: list[str], a, res: dict) -> None:
    faq_msgs = [p["text"] for p in picked["faq"]]
    act_msgs = [p["text"] for p in picked["action"]]
    if not faq_msgs:
        raise RuntimeError("no message found that the assistant answers with a plain response (FAQ)")
    scen = {"faq": Scenario("faq", faq_msgs, turns_per_conversation=a.turns_per_conversation)}
    if act_msgs:
        scen["action"] = Scenario(
            "action", act_msgs, tokens=tokens, turns_per_conversation=a.turns_per_conversation
        )
        # 20 students at once who each read the answer and type for about a second: the latency they see
        # when the server is not saturated (closed loop without pauses measures the saturation point instead)
        scen["action-paced"] = Scenario(
            "action-paced",
            act_msgs,
            tokens=tokens,
            pause_s=a.pause,
            turns_per_conversation=a.turns_per_conversation,
        )
    else:
        print("!! no signed-in question ran a custom action: action turns not measured", flush=True)
    k = 0.25 if a.quick else 1.0
    plan = [
        ("faq", 1, int(300 * k), 60 * k),
        ("faq", 20, int(1200 * k), 60 * k),
        ("action", 1, int(200 * k), 60 * k),
        ("action", 20, int(800 * k), 60 * k),
        ("action-paced", 20, int(600 * k), 60 * k),
    ]
    ld = res["load"] = {
        "turns_per_conversation": a.turns_per_conversation,
        "runs": [],
        "exercised": {
            k2: [{"text": p["text"], "intent": p["intent"], "action": ", ".join(p["actions"])} for p in v]
            for k2, v in picked.items()
        },
    }
    pool = iter(range(len(SEEDED), 10**9))  # the seeded students carried the evaluation's conversations

    def fresh(n_turns: int, conc: int) -> list[str]:
        """Tokens of students not used yet in the run: one per conversation the step can start."""
        n = min(len(tokens), n_turns // a.turns_per_conversation + conc + 5)
        return [tokens[next(pool) % len(tokens)] for _ in range(n)]

    for name, conc, turns, secs in plan:
        if name not in scen:
            continue
        step(f"load: {name} turns, {conc} conversation(s), up to {turns} turns / {secs:.0f}s")
        if scen[name].tokens:
            scen[name].tokens = fresh(turns, conc)
        r = asyncio.run(run_load(system.rest_webhook, scen[name], conc, turns, secs, warmup=5))
        ld["runs"].append(r.to_json())
        s = r.summary()
        print(
            f"   p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms, {s['turns_per_s']} "
            f"turns/s, {s['errors']} errors {s['error_samples'][:2] if s['errors'] else ''}",
            flush=True,
        )
    mixed_secs = a.throughput_seconds * k
    mixed = Scenario(
        "mixed",
        [m for pair in zip(faq_msgs, act_msgs or faq_msgs, strict=False) for m in pair] or faq_msgs,
        tokens=fresh(int(MAX_TURNS_PER_S * mixed_secs), 20) if act_msgs else [],
        turns_per_conversation=a.turns_per_conversation,
    )
    step(f"throughput: mixed FAQ + action turns, 20 conversations, {mixed_secs:.0f}s")
    r = asyncio.run(run_load(system.rest_webhook, mixed, 20, 10**7, mixed_secs, warmup=5))
    ld["throughput"] = r.summary()
    print(
        f"   {r.throughput:.1f} turns/s, {r.errors} errors, p95 {ld['throughput']['p95_ms']} ms", flush=True
    )
    if a.growth:
        step(f"tracker growth: one conversation of {a.growth} FAQ turns")
        g = Scenario("growth", faq_msgs, turns_per_conversation=a.growth)
        r = asyncio.run(run_load(system.rest_webhook, g, 1, a.growth, 600, warmup=0))
        lat = r.latencies_ms
        ld["growth"] = {
            "turns": r.turns,
            "errors": r.errors,
            "first_p50_ms": percentile(lat[:50], 50),
            "last_p50_ms": percentile(lat[-50:], 50),
        }
        print(
            f"   first 50 turns p50 {ld['growth']['first_p50_ms']:.0f} ms, "
            f"last 50 p50 {ld['growth']['last_p50_ms']:.0f} ms",
            flush=True,
        )
    if a.soak_turns:
        n_turns, n_senders = int(a.soak_turns * k), int(a.soak_senders * k)
        step(f"soak: {n_turns} FAQ turns from {n_senders} new anonymous senders, Rasa's RSS before and after")
        pid = system.procs["rasa"].pid
        ld["soak"] = sk = asyncio.run(
            soak(system.rest_webhook, faq_msgs, n_turns, n_senders, lambda: tree_rss(pid))
        )
        print(
            f"   {sk['turns']} turns, {sk['turns_per_s']} turns/s, {sk['errors']} errors: Rasa RSS "
            f"{sk['rss_before_mib']} -> {sk['rss_after_mib']} MiB ({sk['rss_growth_pct']:+} %)",
            flush=True,
        )


def cross_validate(monitor: MemoryMonitor, out_dir: Path, folds: int, res: dict) -> None:
    step(f"NLU cross-validation, {folds} folds (progress below)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_CACHE_DIRECTORY=str(out_dir.parent / "rasa-cache"))
    rc, secs = run_measured(
        "cv",
        [
            str(RASA),
            "test",
            "nlu",
            "--nlu",
            "data/nlu",
            "--domain",
            "bot/domain",
            "--config",
            "bot/config.yml",
            "--cross-validation",
            "--folds",
            str(folds),
            "--out",
            str(out_dir),
            "--no-plot",
        ],
        monitor,
        ROOT,
        env,
    )
    if rc != 0:
        raise RuntimeError("rasa test nlu --cross-validation failed")
    res["cv"] = {"folds": folds, "seconds": round(secs, 1), "reports": accuracy.read_cv_reports(out_dir)}
    res["resources"]["cv_peak_mib"] = monitor.peak_mib().get("cv")
    print(f"   {secs:.0f}s: {json.dumps(res['cv']['reports'], ensure_ascii=False)}", flush=True)


def nlg_step(res: dict, turns: int, model: Path | None, busy: float | None = None) -> None:
    step(
        f"NLG endpoint and turn log cost: three systems side by side, {turns} FAQ turns each "
        "(bench/nlg_cost.py)"
    )
    res["nlg_cost"] = r = nlg_cost.measure(turns, model)
    res["nlg_cost"]["measured"] = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": git_commit(),
        "cpu_busy_before": res.get("cpu_busy_before") if busy is None else busy,
    }
    for name in ("off", "nlg only", "on"):
        print(
            f"   {name:8}: p50 {r[name]['p50_ms']} ms, p95 {r[name]['p95_ms']} ms"
            + (f" ({r[name]['extra_p50_ms']:+} ms p50)" if "extra_p50_ms" in r[name] else ""),
            flush=True,
        )


def nlg_alone(a) -> int:
    """`--only nlg`: the NLG cost step into results/latest.json (other results kept) and
    docs/benchmarks.md."""
    latest = ROOT / "results" / "latest.json"
    res = (
        json.loads(latest.read_text(encoding="utf-8"))
        if latest.exists()
        else {
            "command": "python -m bench.run --only nlg",
            "date": "",
            "commit": git_commit(),
            "machine": machine(),
        }
    )
    nlg_step(res, a.nlg_turns, a.model, busy=cpu_busy_percent(2.0))
    report.save_results(res, "latest.json")
    rows = [r for r in report.target_rows(res) if r[0].startswith("NLG")]
    if not a.no_docs:
        m = res["nlg_cost"]["measured"]
        what, target, got, ok = rows[0]
        report.put_target_row(
            ROOT / "docs" / "benchmarks.md",
            (
                what,
                target,
                f"{got}; measured alone at `{m['commit']}`, {m['date']}, "
                f"machine {m['cpu_busy_before']:.0f} % busy before",
                ok,
            ),
            "NLG",
        )
        print(">> updated results/latest.json and the NLG row of docs/benchmarks.md", flush=True)
    for what, target, got, ok in rows:
        print(f"   {'ok  ' if ok else 'MISS'} {what}: {got} (target {target})")
    return 1 if a.strict and not all(ok for *_, ok in rows) else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-train", action="store_true", help="don't time a training run; use models/")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-cv", action="store_true")
    ap.add_argument("--quick", action="store_true", help="a quarter of the load turns and time (smoke run)")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--growth", type=int, default=300, help="turns of the long conversation (0 = skip)")
    ap.add_argument("--throughput-seconds", type=float, default=45)
    ap.add_argument("--turns-per-conversation", type=int, default=10)
    ap.add_argument(
        "--soak-turns",
        type=int,
        default=50000,
        help="turns of the soak step: new anonymous senders, Rasa's RSS before and after (0 = skip)",
    )
    ap.add_argument(
        "--soak-senders", type=int, default=20000, help="distinct anonymous senders of the soak step"
    )
    ap.add_argument(
        "--pause", type=float, default=1.0, help="mean seconds between turns in the paced action step"
    )
    ap.add_argument("--model", type=Path, help="model to serve (default: the one just trained, else models/)")
    ap.add_argument("--no-docs", action="store_true", help="write results/ only, not docs/")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--skip-nlg", action="store_true", help="skip the NLG endpoint / turn log cost step")
    ap.add_argument("--nlg-turns", type=int, default=200, help="FAQ turns per variant of the NLG cost step")
    ap.add_argument(
        "--only",
        choices=["nlg"],
        help="run this step alone: into results/latest.json (other results kept) and its row of "
        "docs/benchmarks.md",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite docs/benchmarks.md and docs/latency.png from results/latest.json, run nothing",
    )
    a = ap.parse_args(argv)
    if a.report_only:
        res = json.loads((ROOT / "results" / "latest.json").read_text(encoding="utf-8"))
        report.write_markdown(res, ROOT / "docs" / "benchmarks.md")
        report.plot(res, ROOT / "docs" / "latency.png")
        print(">> rewrote docs/benchmarks.md and docs/latency.png from results/latest.json")
        return 0
    if a.only == "nlg":
        return nlg_alone(a)

    t_all = time.monotonic()
    cmd = (
        "make bench" if not argv and len(sys.argv) == 1 else "python -m bench.run " + shlex.join(sys.argv[1:])
    )
    res: dict = {
        "command": cmd,
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": git_commit(),
        "machine": machine(),
        "resources": {"startup_s": {}, "peak_rss_mib": {}},
    }
    busy = cpu_busy_percent(2.0)
    res["cpu_busy_before"] = busy
    if busy > 40:
        print(f"!! the machine is busy ({busy:.0f}% CPU): numbers will be pessimistic", flush=True)
    (ROOT / "results").mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    cases = ROOT / "results" / "eval_cases.jsonl"
    files = accuracy.case_files()
    n_cases = accuracy.merge_cases(files, cases)
    print(f">> evaluation set: {n_cases} cases from {', '.join(f.name for f in files)}", flush=True)

    with MemoryMonitor() as mon:
        model = a.model
        if not a.skip_train:
            model = model or train_timed(mon, tmp / "models", res)
        model = model or latest_model()
        system = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log", rasa_api=True)
        mon.watch_procs(system.procs)
        try:
            students = start_all(system, model, res, tmp)
            base_url = start_baseline(system, res)
            if not a.skip_eval:
                step("evaluation set through chat_eval.py")
                res["eval"] = {
                    "files": [f.name for f in files],
                    "assistant": accuracy.run_chat_eval(
                        cases, system.rest_webhook, system.backend_url, "the assistant"
                    ),
                    "baseline": accuracy.run_chat_eval(
                        cases, base_url + "/webhooks/rest/webhook", system.backend_url, "the baseline"
                    ),
                }
                ev = res["eval"]
                ev["real"] = {
                    f.name: accuracy.run_chat_eval(f, system.rest_webhook, system.backend_url, f.name)
                    for f in accuracy.real_question_files()
                }
                ratio = (
                    ev["assistant"]["pass_rate"] / ev["baseline"]["pass_rate"]
                    if ev["baseline"]["pass_rate"]
                    else float("inf")
                )
                print(f"   ratio assistant / baseline: {ratio:.2f}x", flush=True)
            system.stop_one("baseline")
            if not a.skip_load:
                step("choosing load messages (what each one runs, read from the tracker)")
                tokens = [dev_login(system.backend_url, s) for s in students]
                picked = choose_messages(system, cases, tokens[4])
                print(
                    f"   {len(picked['faq'])} FAQ messages, {len(picked['action'])} action messages: "
                    f"{[(p['text'], p['actions']) for p in picked['action']]}",
                    flush=True,
                )
                load_runs(system, picked, tokens, a, res)
        finally:
            system.stop()
            res["logs"] = str(system.log_dir)
        if not a.skip_cv:
            cross_validate(mon, tmp / "cv", a.folds, res)
        if not a.skip_nlg:
            nlg_step(res, a.nlg_turns, model)
        res["resources"]["peak_rss_mib"].update(mon.peak_mib())

    for big in ("models", "cv", "rasa-cache"):  # keep the logs and the database, not the model copies
        shutil.rmtree(tmp / big, ignore_errors=True)
    res["duration_s"] = round(time.monotonic() - t_all, 1)
    res["results_file"] = f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    report.save_results(res, res["results_file"], "latest.json")
    if not a.no_docs:
        report.write_markdown(res, ROOT / "docs" / "benchmarks.md")
        report.plot(res, ROOT / "docs" / "latency.png")
        print("\n>> wrote docs/benchmarks.md and docs/latency.png", flush=True)
    print(f">> raw results: results/{res['results_file']} ({res['duration_s']:.0f}s in all)")
    rows = report.target_rows(res)
    for what, target, got, ok in rows:
        print(f"   {'ok  ' if ok else 'MISS'} {what}: {got} (target {target})")
    return 1 if a.strict and not all(ok for *_, ok in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

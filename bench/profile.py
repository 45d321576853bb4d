"""Where the CPU of a turn goes: CPU time per process per turn under load, and a py-spy profile of Rasa.

Starts the system (system/, fresh seeded database), runs a closed-loop load (default: mixed FAQ +
signed-in action turns, 20 conversations) while py-spy samples the Rasa process, then prints
- CPU ms per turn of each process (backend, action server, Rasa, the load generator itself) from /proc,
- the Rasa functions with the largest inclusive and self share of the samples.

    .venv/bin/python -m bench.profile --seconds 30 [--scenario faq|action|mixed] [--env K=V ...]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import resource
import subprocess
import tempfile
from pathlib import Path

from bench.experiment import ACTION, FAQ, MIXED, VariantSystem, start_with_students
from bench.load import Scenario, run_load
from system import ROOT, latest_model

PY_SPY = ROOT / ".venv" / "bin" / "py-spy"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and all its threads (children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def tree(pid: int) -> list[int]:
    out = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for k in kids:
        out += tree(int(k))
    return out


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            total += cpu_seconds(p)
        except OSError:
            pass
    return total


def summarise(raw: Path, top: int) -> str:
    incl: collections.Counter = collections.Counter()
    self_: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = [f for f in stack.split(";") if f]
        seen = set()
        for f in frames:
            key = (
                f.split(" (", 1)[0]
                + " ("
                + f.split(" (", 1)[1]
                .split(":")[0]
                .replace(str(ROOT / ".venv-rasa" / "lib" / "python3.10" / "site-packages") + "/", "")
                + ")"
                if " (" in f
                else f
            )
            if key not in seen:
                incl[key] += n
                seen.add(key)
        if frames:
            self_[frames[-1].split(" (", 1)[0]] += n
    lines = [f"{total} samples (active threads only)", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f} %  {k}" for k, n in incl.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f} %  {k}" for k, n in self_.most_common(top)]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--scenario", choices=["faq", "action", "mixed"], default="mixed")
    ap.add_argument("--endpoints", default="bot/endpoints.yml")
    ap.add_argument("--env", action="append", default=[], help="K=V for the three servers")
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--no-spy", action="store_true", help="CPU per process only (py-spy slows Rasa a little)")
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="profile-"))
    env = dict(kv.split("=", 1) for kv in a.env)
    s = VariantSystem(
        database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log", env=env, endpoints=a.endpoints
    )
    try:
        tokens = start_with_students(s, a.model or latest_model(), 30, tmp)
        sc = {
            "faq": Scenario("faq", FAQ),
            "action": Scenario("action", ACTION, tokens=tokens),
            "mixed": Scenario("mixed", MIXED, tokens=tokens),
        }[a.scenario]
        asyncio.run(run_load(s.rest_webhook, sc, a.concurrency, 40, 30, progress=False))  # warm-up
        pids = {n: p.pid for n, p in s.procs.items()}
        before = {n: tree_cpu(p) for n, p in pids.items()}
        me0 = resource.getrusage(resource.RUSAGE_SELF)
        spy = None
        raw = tmp / "rasa.raw"
        if not a.no_spy:
            spy = subprocess.Popen(
                [
                    str(PY_SPY),
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    "50",
                    "-o",
                    str(raw),
                    "-d",
                    str(int(a.seconds)),
                    "-p",
                    str(pids["rasa"]),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        r = asyncio.run(run_load(s.rest_webhook, sc, a.concurrency, 10**7, a.seconds))
        after = {n: tree_cpu(p) for n, p in pids.items()}
        me1 = resource.getrusage(resource.RUSAGE_SELF)
        if spy:
            spy.wait(60)
        n = max(r.turns, 1)
        print(
            f"\n{a.scenario} x{a.concurrency}: {r.turns} turns in {r.seconds:.1f}s = {r.throughput:.1f} "
            f"turns/s, {r.errors} errors, p50 {r.summary()['p50_ms']} ms"
        )
        print("CPU ms per turn:")
        total = 0.0
        for name in pids:
            ms = (after[name] - before[name]) * 1000 / n
            total += ms
            print(f"  {name:>8} {ms:6.1f}")
        gen = ((me1.ru_utime + me1.ru_stime) - (me0.ru_utime + me0.ru_stime)) * 1000 / n
        print(
            f"  {'loadgen':>8} {gen:6.1f}\n  {'total':>8} {total + gen:6.1f}  "
            f"(2 cores: at most {2000 / (total + gen):.0f} turns/s)"
        )
        if spy and raw.exists():
            print("\nRasa, py-spy:\n" + summarise(raw, a.top))
            print(f"\nraw samples: {raw}")
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

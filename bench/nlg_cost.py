"""Cost of issue 14 per FAQ turn: the NLG endpoint (answers staff edit, bot/nlg.py) and the turn log (event
broker).

Three whole systems (backend, actions, `rasa run`) run side by side: bot/endpoints.yml as shipped ("on":
answers from the backend's copy via bot/nlg.py, turns to the turn log), without its `event_broker:` section
("nlg only") and without both ("off": answers from the domain, no turn log). One client sends FAQ turns
through the REST channel to each in turn, in a rotating order, so machine noise hits all alike.

A step of `make bench`; alone: `python -m bench.run --only nlg` (updates results/latest.json and
docs/benchmarks.md), or `python -m bench.nlg_cost [--turns 200]` (prints only).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from system import ROOT, System, latest_model, say

FAQ = [
    "学校平台怎么登录",
    "两级审核通过后多久同步到国家平台",
    "档案转寄类型有哪些",
    "档案能寄到家里吗",
    "毕业去向登记有几步",
    "审核没通过怎么办",
    "档案邮寄申请怎么操作",
    "户档信息登记要填什么",
]


def _start(endpoints: Path, tmp: Path, model: Path) -> System:
    s = System(
        database_url=f"sqlite:///{tmp / ('app-' + endpoints.stem + '.db')}",
        log_dir=tmp / ("log-" + endpoints.stem),
    ).start(model=model, endpoints=str(endpoints))
    for i in range(20):  # warm-up
        say(s.rest_webhook, "warm", FAQ[i % len(FAQ)])
    return s


def _variants(tmp: Path) -> dict[str, Path]:
    on = ROOT / "bot" / "endpoints.yml"
    nlg_only = tmp / "endpoints-nlg-only.yml"
    nlg_only.write_text(
        re.sub(r"(?ms)^event_broker:.*?(?=^\S|\Z)", "", on.read_text(encoding="utf-8")), encoding="utf-8"
    )
    off = tmp / "endpoints-off.yml"
    off.write_text(
        re.sub(r"(?ms)^nlg:.*?(?=^\S|\Z)", "", nlg_only.read_text(encoding="utf-8")), encoding="utf-8"
    )
    if "nlg:" in off.read_text() or "event_broker:" in nlg_only.read_text():
        raise RuntimeError("bot/endpoints.yml changed shape: the nlg/event_broker sections were not removed")
    return {"off": off, "nlg only": nlg_only, "on": on}


def measure(turns: int = 200, model: Path | None = None) -> dict:
    """{variant: {turns, p50_ms, p95_ms, mean_ms}} plus the extra p50 of "nlg only" and "on" over "off"."""
    model = model or latest_model()
    with tempfile.TemporaryDirectory(prefix="bench-nlg-") as d:
        tmp = Path(d)
        variants = _variants(tmp)
        systems: dict[str, System] = {}
        lat: dict[str, list[float]] = {name: [] for name in variants}
        try:
            for name, ep in variants.items():
                systems[name] = _start(ep, tmp, model)
            names = list(variants)
            sender = f"cost-{uuid.uuid4().hex[:6]}"
            for i in range(turns):
                for name in names[i % 3 :] + names[: i % 3]:
                    t0 = time.perf_counter()
                    reply = say(systems[name].rest_webhook, f"{sender}-{i // 10}", FAQ[i % len(FAQ)])
                    lat[name].append((time.perf_counter() - t0) * 1000)
                    if not (reply and reply[0].get("text")):
                        raise RuntimeError(f"{name}: no answer to {FAQ[i % len(FAQ)]!r}: {reply}")
        finally:
            for s in systems.values():
                s.stop()
    out: dict = {}
    for name, xs in lat.items():
        xs.sort()
        out[name] = {
            "turns": len(xs),
            "p50_ms": round(statistics.median(xs), 1),
            "p95_ms": round(xs[int(len(xs) * 0.95) - 1], 1),
            "mean_ms": round(statistics.fmean(xs), 1),
        }
    for name in ("nlg only", "on"):
        out[name]["extra_p50_ms"] = round(out[name]["p50_ms"] - out["off"]["p50_ms"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=200)
    for name, r in measure(ap.parse_args().turns).items():
        print(
            f"{name:8}: {r['turns']} FAQ turns, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
            f"mean {r['mean_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()

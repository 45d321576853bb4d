"""Cost of issue 14 per FAQ turn: the whole system (backend, actions, `rasa run`), one client, FAQ turns through
the REST channel, with bot/endpoints.yml as shipped ("on": answers from the backend via bot/nlg.py, turns to the
turn log), without its `event_broker:` section ("nlg only") and without both ("off": answers from the domain, no
turn log). The three systems run side by side and take turns, so machine noise hits all alike.

    .venv/bin/python tests/staff/nlg_cost.py [--turns 200]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.system import System, latest_model, say  # noqa: E402

FAQ = ["学校平台怎么登录", "两级审核通过后多久同步到国家平台", "档案转寄类型有哪些", "档案能寄到家里吗",
       "毕业去向登记有几步", "审核没通过怎么办", "档案邮寄申请怎么操作", "户档信息登记要填什么"]


def start(endpoints: Path, tmp: Path) -> System:
    s = System(database_url=f"sqlite:///{tmp / ('app-' + endpoints.stem + '.db')}", log_dir=tmp / ("log-" + endpoints.stem))
    s.prepare_database()
    s.start_backend()
    s.start_actions()
    s._spawn("rasa", s.rasa_args(latest_model(), endpoints=str(endpoints)))
    s.wait_rasa()
    for i in range(20):  # warm-up
        say(s.rest_webhook, "warm", FAQ[i % len(FAQ)])
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        on = ROOT / "bot" / "endpoints.yml"
        text = on.read_text(encoding="utf-8")
        nlg_only = tmp / "endpoints-nlg-only.yml"
        nlg_only.write_text(re.sub(r"(?ms)^event_broker:.*?(?=^\S|\Z)", "", text), encoding="utf-8")
        off = tmp / "endpoints-off.yml"
        off.write_text(re.sub(r"(?ms)^nlg:.*?(?=^\S|\Z)", "", nlg_only.read_text(encoding="utf-8")), encoding="utf-8")
        assert "nlg:" not in off.read_text() and "event_broker:" not in nlg_only.read_text()
        variants = {"off": off, "nlg only": nlg_only, "on": on}
        systems = {}
        try:
            for name, ep in variants.items():
                systems[name] = start(ep, tmp)
            # one turn per variant per round, in a rotating order: machine noise hits all variants alike
            res = {name: [] for name in variants}
            names = list(variants)
            sender = f"cost-{uuid.uuid4().hex[:6]}"
            for i in range(args.turns):
                for name in names[i % 3:] + names[:i % 3]:
                    t0 = time.perf_counter()
                    reply = say(systems[name].rest_webhook, f"{sender}-{i // 10}", FAQ[i % len(FAQ)])
                    res[name].append((time.perf_counter() - t0) * 1000)
                    assert reply and reply[0].get("text"), reply
        finally:
            for s in systems.values():
                s.stop()
        for name, xs in res.items():
            xs.sort()
            print(f"{name:8}: {len(xs)} FAQ turns, p50 {statistics.median(xs):.1f} ms, "
                  f"p95 {xs[int(len(xs) * .95) - 1]:.1f} ms, mean {statistics.fmean(xs):.1f} ms")


if __name__ == "__main__":
    main()

"""Cost of the NLG endpoint per FAQ turn (issue 14 §1): the whole system (backend, actions, `rasa run`), one client,
FAQ turns through the REST channel, with bot/endpoints.yml (answers from the backend) and with the same file minus
its `nlg:` section (answers from the domain). Alternates the two in blocks so machine noise hits both.

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


def run(endpoints: Path, turns: int, tmp: Path) -> list[float]:
    s = System(database_url=f"sqlite:///{tmp / ('app-' + endpoints.stem + '.db')}", log_dir=tmp / "log")
    try:
        s.prepare_database()
        s.start_backend()
        s.start_actions()
        s._spawn("rasa", s.rasa_args(latest_model(), endpoints=str(endpoints)))
        s.wait_rasa()
        for i in range(20):  # warm-up
            say(s.rest_webhook, "warm", FAQ[i % len(FAQ)])
        out = []
        sender = f"cost-{uuid.uuid4().hex[:6]}"
        for i in range(turns):
            t0 = time.perf_counter()
            reply = say(s.rest_webhook, f"{sender}-{i // 10}", FAQ[i % len(FAQ)])
            out.append((time.perf_counter() - t0) * 1000)
            assert reply and reply[0].get("text"), reply
        return out
    finally:
        s.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        on = ROOT / "bot" / "endpoints.yml"
        off = tmp / "endpoints-off.yml"
        off.write_text(re.sub(r"(?ms)^nlg:.*?(?=^\S|\Z)", "", on.read_text(encoding="utf-8")), encoding="utf-8")
        assert "nlg:" not in off.read_text()
        res = {"on": [], "off": []}
        for block in range(2):
            for name, ep in (("off", off), ("on", on)):
                res[name] += run(ep, args.turns // 2, tmp)
        for name, xs in res.items():
            xs.sort()
            print(f"NLG endpoint {name:3}: {len(xs)} FAQ turns, p50 {statistics.median(xs):.1f} ms, "
                  f"p95 {xs[int(len(xs) * .95) - 1]:.1f} ms, mean {statistics.fmean(xs):.1f} ms")


if __name__ == "__main__":
    main()

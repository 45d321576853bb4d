"""Run by test_handoff_gate.py in the Rasa environment (.venv-rasa, where the channels run): drives the
channels' handoff gate (bot/channels/handoff.py) against a real backend and prints what it saw as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp

from bot.channels.handoff import HandoffGate

SERVICE = {"X-Actions-Service-Key": "demo-actions-service-key"}


async def main(base: str, key: str, dead: str) -> dict:
    out: dict = {}
    gate = HandoffGate(base, key)
    async with aiohttp.ClientSession() as http:

        async def ask_person(conv: str) -> None:
            async with http.post(
                base + "/api/integration/handoff",
                headers=SERVICE,
                json={"conversation": conv, "channel": "web"},
            ) as r:
                assert r.status == 200, await r.text()

        out["first"] = await gate.check("anon:gp-free", "web", "你好")
        out["asked_before_list"] = gate.asked  # no list yet: asks
        await asyncio.sleep(1.0)
        for _ in range(5):
            await gate.check("anon:gp-free", "web", "你好")
        out["asked_free_with_list"] = gate.asked - out["asked_before_list"]  # listed as free: no calls

        await ask_person("anon:gp-mine")
        gate.mark("anon:gp-mine")  # this process's own turn asked for a person
        out["mine"] = await gate.check("anon:gp-mine", "web", "刚转人工")
        n = gate.asked
        # the channel stores the bot's answer to the queued message for the counselor (not a gate question)
        await gate.store_answer("anon:gp-mine", "web", out["mine"], ["排队时的回答", "", {"x": 1}])
        out["store_asked"] = gate.asked - n
        await gate.check("anon:gp-mine", "web", "排队时再问一句")
        out["mine_still_asked"] = gate.asked - n  # queued: stored and answered by the bot, still listed

        await ask_person("anon:gp-other")  # another Rasa process's turn did
        await asyncio.sleep(1.0)
        out["other"] = await gate.check("anon:gp-other", "web", "别的进程转的")
        out["other_end"] = await gate.check("anon:gp-other", "web", "结束人工")
        n = gate.asked
        out["after_end"] = await gate.check("anon:gp-other", "web", "你好")
        out["after_end_again"] = await gate.check("anon:gp-other", "web", "你好")
        out["asked_after_end"] = gate.asked - n  # one call finds it closed, then none
        await gate.store_answer("anon:gp-other", "web", out["other"], ["结束后才到的回答"])  # 409: ignored

        down = HandoffGate(dead, key)
        t0 = time.monotonic()
        out["down"] = await down.check("anon:gp-free", "web", "你好")
        out["down_seconds"] = time.monotonic() - t0
        t0 = time.monotonic()
        await down.store_answer("anon:gp-mine", "web", out["mine"], ["x"])  # logged, never raised
        out["down_store_seconds"] = time.monotonic() - t0
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4])), ensure_ascii=False))

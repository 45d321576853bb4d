"""Worker for tests/cluster (run with the Rasa venv's Python): hammers one conversation's lock from this
process.

    python -m tests.cluster.lock_race <lock store class path> <redis port> <conversation> <rounds> <start at>
        [ticket lifetime, default 20 s]

Each round takes Rasa's lock of the conversation (`LockStore.lock`, as `Agent.handle_message` does) and,
inside, marks the critical section in Redis (INCR inside; a value above 1 means two holders at once) and
increments a counter by read, pause, write (a lost increment means two holders at once). Prints a JSON
summary.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def main(
    store_path: str, port: int, conversation: str, rounds: int, start_at: float, lifetime: float = 20
) -> dict:
    import redis
    from rasa.shared.utils.common import class_from_module_path

    cls = class_from_module_path(store_path)
    store = cls(host="127.0.0.1", port=port, db=3, key_prefix="race")
    red = redis.Redis(port=port, db=4)
    overlaps = errors = 0
    while time.time() < start_at:  # both workers start together
        await asyncio.sleep(0.001)
    for _ in range(rounds):
        try:
            async with store.lock(conversation, lock_lifetime=lifetime, wait_time_in_seconds=0.002):
                if red.incr("inside") > 1:
                    overlaps += 1
                value = int(red.get("counter") or 0)
                await asyncio.sleep(0.001)
                red.set("counter", value + 1)
                red.decr("inside")
        except Exception as e:  # noqa: BLE001 - counted: a lock error is a lost turn
            errors += 1
            print(f"lock error: {e}", file=sys.stderr)
    return {"overlaps": overlaps, "errors": errors}


if __name__ == "__main__":
    path, port, conv, rounds, start = (
        sys.argv[1],
        int(sys.argv[2]),
        sys.argv[3],
        int(sys.argv[4]),
        float(sys.argv[5]),
    )
    lifetime = float(sys.argv[6]) if len(sys.argv) > 6 else 20.0
    t0 = time.monotonic()
    out = asyncio.run(main(path, port, conv, rounds, start, lifetime))
    print(json.dumps({**out, "seconds": round(time.monotonic() - max(0.0, start - time.time()) - t0, 1)}))

"""Train the assistant's model into models/ when the training data, domain or config changed.

Rasa compares the fingerprint of the data with the newest model in models/ and skips the work when nothing
changed, so `make run` and `make test` can call this every time (about a minute when it trains: Rasa prints its
progress).
"""
import os
import subprocess
import sys
import time

from system import RASA, ROOT


def main() -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    before = {p.name for p in (ROOT / "models").glob("*.tar.gz")}
    t0 = time.monotonic()
    print(">> training the assistant if its data changed (progress below)", flush=True)
    rc = subprocess.call([str(RASA), "train", "--config", "bot/config.yml", "--domain", "bot/domain",
                          "--data", "data", "--out", "models"], cwd=ROOT, env=env)
    if rc != 0:
        print("!! training failed", file=sys.stderr)
        return rc
    after = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    # Keep only the newest model: old ones only fill the disk.
    for old in after[:-1]:
        old.unlink()
    fresh = after and after[-1].name not in before
    print(f">> model {after[-1].name} ({'trained' if fresh else 'unchanged'}, {time.monotonic() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the assistant's model into models/ when the training data, domain or config changed.

Rasa compares the fingerprint of the data with the newest model in models/ and skips the work when nothing
changed, so `make run` and `make test` can call this every time (about a minute when it trains: Rasa prints
its progress).

Before training, the knowledge base's live entries (issue 20 §2) are exported from the backend's database
(DATABASE_URL, default var/app.db; migrated first, which also adds the seed entries) into the generated,
git-ignored data/nlu/knowledge.yml as examples of `ask_knowledge`. Without a reachable database the file is
left as it is (no file: the classifier learns no `ask_knowledge` examples; retrieval still answers the live
entries).
"""

import os
import subprocess
import sys
import time

from system import RASA, ROOT


def export_knowledge() -> None:
    try:
        from backend.cli import migrate
        from backend.core.db import SessionLocal
        from backend.services.knowledge import export_training

        migrate()
        with SessionLocal() as s:
            out = export_training(s, ROOT)
        print(f">> knowledge base: {out['examples']} questions -> {out['file'] or '(none)'}", flush=True)
    except Exception as e:  # noqa: BLE001 - training goes on with the file as it is
        print(
            f"!! knowledge base not exported ({type(e).__name__}: {e}); data/nlu/knowledge.yml unchanged",
            file=sys.stderr,
        )


def main() -> int:
    export_knowledge()
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    before = {p.name for p in (ROOT / "models").glob("*.tar.gz")}
    t0 = time.monotonic()
    print(">> training the assistant if its data changed (progress below)", flush=True)
    rc = subprocess.call(
        [
            str(RASA),
            "train",
            "--config",
            "bot/config.yml",
            "--domain",
            "bot/domain",
            "--data",
            "data",
            "--out",
            "models",
        ],
        cwd=ROOT,
        env=env,
    )
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

#!/usr/bin/env python3
"""Run evaluation sets through a fresh system (backend + action server + Rasa, the `system` launcher), the
database re-seeded before each file, and print one table row per file: pass rate and confident-wrong count
(eval/chat_eval.py). The numbers of docs/nlu.md "Round 5" come from this.

Usage: python -m eval.run_sets [--model models/X.tar.gz] [--out DIR] FILE.jsonl ...
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from system import ROOT, VENV_PY, System, latest_model

RUNNER = ROOT / "eval" / "chat_eval.py"


def run_file(system: System, cases: Path, out: Path) -> dict:
    subprocess.run(
        [str(VENV_PY), "-m", "backend.cli", "seed"],
        cwd=ROOT,
        env=system.child_env(),
        check=True,
        capture_output=True,
    )
    res = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            str(cases),
            "--bot",
            system.rest_webhook,
            "--backend",
            system.backend_url,
            "--json",
            str(out),
            "-v",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    (out.with_suffix(".log")).write_text(res.stdout + res.stderr, encoding="utf-8")
    return json.loads(out.read_text(encoding="utf-8"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "eval")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    model = a.model or latest_model()
    with tempfile.TemporaryDirectory() as tmp:
        system = System(database_url=f"sqlite:///{Path(tmp) / 'app.db'}", log_dir=Path(tmp) / "log")
        system.start(model=model)
        try:
            print(f"model {model.name}")
            print("| set | passed | pass rate | confident-wrong | knowledge-base answers (passed) |")
            print("| --- | --- | --- | --- | --- |")
            for f in a.files:
                r = run_file(system, f, a.out / f"{f.stem}.json")
                print(
                    f"| {f.name} ({r['total']}) | {r['passed']} | {r['pass_rate']:.3f} | "
                    f"{r['confident_wrong']} ({r['confident_wrong_rate']:.3f}) | "
                    f"{r.get('knowledge_answers', 0)} ({r.get('knowledge_passed', 0)}) |",
                    flush=True,
                )
        finally:
            system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

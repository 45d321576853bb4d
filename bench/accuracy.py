"""Accuracy: the evaluation set through chat_eval.py, and NLU cross-validation with Rasa's own reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chat_eval_path() -> Path:
    """The project's own runner (same format and output as the team's shared one)."""
    return ROOT / "eval" / "chat_eval.py"


def case_files() -> list[Path]:
    """eval/cases/*.jsonl, plus the team's shared sample cases where ../shared exists."""
    files = sorted((ROOT / "eval" / "cases").glob("*.jsonl"))
    sample = ROOT.parent / "shared" / "eval" / "sample_cases.jsonl"
    if sample.exists():
        files.append(sample)
    return files


def real_question_files() -> list[Path]:
    """The real graduates' questions (eval/real, issue 20), each reported on its own row: the frozen test half
    and the tune half."""
    return [ROOT / "eval" / "real" / "real_test.jsonl", ROOT / "eval" / "real" / "real_tune.jsonl"]


def merge_cases(files: list[Path], out: Path) -> int:
    """One JSONL with every case; a case without `cat` gets its file's stem, so categories stay meaningful."""
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for path in files:
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                case = json.loads(line)
                case.setdefault("cat", case["id"].split("-")[0] if "-" in case["id"] else path.stem)
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
                n += 1
    return n


_CAT = re.compile(r"^(\S+): (\d+)/(\d+)$")


def parse_chat_eval(stdout: str) -> dict:
    by_cat, fails = {}, []
    rate, passed, failed, p50, p95, wrong = None, 0, 0, None, None, None
    for line in stdout.splitlines():
        line = line.rstrip()
        if m := _CAT.match(line):
            by_cat[m.group(1)] = [int(m.group(2)), int(m.group(3))]
        elif line.startswith("FAIL "):
            fails.append(line[5:])
        elif m := re.match(r"^pass rate ([\d.]+)$", line):
            rate = float(m.group(1))
        elif m := re.match(r"^(\d+) passed, (\d+) failed$", line):
            passed, failed = int(m.group(1)), int(m.group(2))
        elif m := re.match(r"^latency ms: p50 (\d+), p95 (\d+)", line):
            p50, p95 = int(m.group(1)), int(m.group(2))
        elif m := re.match(r"^confident-wrong (\d+) ", line):
            wrong = int(m.group(1))
    total = passed + failed
    return {
        "pass_rate": passed / total if total else (rate or 0.0),
        "passed": passed,
        "total": total,
        "by_category": by_cat,
        "failures": fails,
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "confident_wrong": wrong,
    }


def run_chat_eval(cases: Path, bot_url: str, backend_url: str, label: str) -> dict:
    print(f">> evaluation set against {label} ({bot_url})", flush=True)
    n_cases = sum(1 for line in cases.read_text(encoding="utf-8").splitlines() if line.strip())
    proc = subprocess.Popen(
        [sys.executable, str(chat_eval_path()), str(cases), "--bot", bot_url, "--backend", backend_url, "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.monotonic()
    while True:  # chat_eval.py prints only at the end: show that it is alive
        try:
            out, err = proc.communicate(timeout=15)
            break
        except subprocess.TimeoutExpired:
            print(f"   ... {label}: {time.monotonic() - t0:.0f}s, {n_cases} cases", flush=True)
            if time.monotonic() - t0 > 3600:
                proc.kill()
                raise
    res = parse_chat_eval(out)
    if not res["total"]:
        raise RuntimeError(f"chat_eval.py gave no result: {out[-500:]} {err[-1500:]}")
    print(f"   {label}: {res['passed']}/{res['total']} passed ({res['pass_rate']:.1%})", flush=True)
    return res


def _f1(report: dict) -> dict:
    out = {}
    for key in ("weighted avg", "macro avg", "micro avg"):
        if isinstance(report.get(key), dict):
            out[key.replace(" avg", "")] = round(report[key].get("f1-score", 0.0), 4)
    if isinstance(report.get("accuracy"), (int, float)):
        out["accuracy"] = round(report["accuracy"], 4)
    return out


def read_cv_reports(out_dir: Path) -> dict:
    """F1 from the reports `rasa test nlu --cross-validation` writes (test folds)."""
    res = {"intent": None, "entities": {}, "response_selection": None}
    for f in sorted(out_dir.glob("*_report.json")):
        rep = json.loads(f.read_text(encoding="utf-8"))
        name = f.name[: -len("_report.json")]
        if name == "intent":
            res["intent"] = _f1(rep)
        elif name == "response_selection":
            res["response_selection"] = _f1(rep)
        else:
            res["entities"][name] = _f1(rep)
    return res

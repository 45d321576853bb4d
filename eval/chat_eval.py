#!/usr/bin/env python3
"""The project's response-level evaluation runner: drives a running assistant through its REST channel.

Same case format and output as the team's shared runner (../shared/eval/chat_eval.py), so a fresh clone
without ../shared can run every evaluation set. Standard library only.

Case format (one JSON object per line):
  {"id": "adv-01", "login": "2025000005" (optional: signs in through the demo login), "cat": "advice" (optional),
   "turns": [{"say": "...",
              "expect_any": [["all", "of", "these"], ["or", "these"]],
              "expect_none": ["words that must not appear"]}]}

A reply is every message of one turn: texts, button titles and custom payloads, joined. Matching ignores white
space, case and full-/half-width differences (NFKC).

Usage: python eval/chat_eval.py CASES.jsonl [--bot URL] [--backend URL] [--min-pass-rate 0.9] [-v]
Exit status 0 when the pass rate reaches --min-pass-rate, else 1.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import unicodedata
import urllib.request
import uuid


def norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).lower().split())


def post(url: str, body: dict, timeout: float = 30) -> object:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode() or "null")


def reply_text(messages) -> str:
    parts = []
    for m in messages or []:
        if m.get("text"):
            parts.append(m["text"])
        for b in m.get("buttons") or []:
            parts.append(str(b.get("title", "")))
        if m.get("custom") is not None:
            parts.append(json.dumps(m["custom"], ensure_ascii=False))
    return "\n".join(parts)


def check(reply: str, turn: dict) -> tuple[bool, list[str]]:
    r = norm(reply)
    groups = turn.get("expect_any") or []
    ok = not groups or any(all(norm(w) in r for w in g) for g in groups)
    bad = [w for w in turn.get("expect_none", []) if norm(w) in r]
    return ok and not bad, bad


def login(backend: str, student_id: str) -> str:
    return post(backend.rstrip("/") + "/api/auth/dev-login", {"student_id": student_id})["access_token"]


def run_case(case: dict, bot: str, backend: str, lat: list[float]) -> tuple[bool, str]:
    sender = f"eval-{case['id']}-{uuid.uuid4().hex[:8]}"
    meta: dict = {}
    try:
        if case.get("login"):
            meta["token"] = login(backend, case["login"])
        for turn in case["turns"]:
            t0 = time.perf_counter()
            msgs = post(bot, {"sender": sender, "message": turn["say"], "metadata": meta})
            lat.append((time.perf_counter() - t0) * 1000)
            rep = reply_text(msgs)
            ok, bad = check(rep, turn)
            if not ok:
                return False, f"said {turn['say']!r} -> {rep[:300]!r}" + (f" (must not contain {bad})" if bad else "")
    except Exception as e:  # a dead or erroring assistant fails the case
        return False, f"error: {e}"
    return True, ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases")
    ap.add_argument("--bot", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    ap.add_argument("--backend", default="http://127.0.0.1:8000")
    ap.add_argument("--min-pass-rate", type=float, default=0.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    with open(a.cases, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    passed, failed, lat, by_cat = 0, 0, [], {}
    for case in cases:
        ok, why = run_case(case, a.bot, a.backend, lat)
        cat = case.get("cat") or case["id"].split("-")[0]
        p, n = by_cat.get(cat, (0, 0))
        by_cat[cat] = (p + ok, n + 1)
        passed, failed = passed + ok, failed + (not ok)
        if not ok and a.verbose:
            print(f"FAIL {case['id']}: {why}")
    for cat, (p, n) in sorted(by_cat.items()):
        print(f"{cat}: {p}/{n}")
    if lat:
        lat.sort()
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        print(f"latency ms: p50 {statistics.median(lat):.0f}, p95 {p95:.0f}, turns {len(lat)}")
    total = passed + failed
    rate = passed / total if total else 0.0
    print(f"pass rate {rate:.3f}")
    print(f"{passed} passed, {failed} failed")
    return 0 if total and rate >= a.min_pass_rate else 1


if __name__ == "__main__":
    sys.exit(main())

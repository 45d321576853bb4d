#!/usr/bin/env python3
"""The project's response-level evaluation runner: drives a running assistant through its REST channel.

Same case format and output as the team's shared runner (../shared/eval/chat_eval.py), so a fresh clone
without ../shared can run every evaluation set. Standard library only.

Case format (one JSON object per line):
  {"id": "adv-01", "login": "2025000005" (optional: signs in through the demo login), "cat": "advice"
  (optional),
   "turns": [{"say": "...",
              "expect_any": [["all", "of", "these"], ["or", "these"]],
              "expect_none": ["words that must not appear"]}]}

A reply is every message of one turn: texts, button titles and custom payloads, joined. Matching ignores white
space, case and full-/half-width differences (NFKC).

A failed case is *confident-wrong* when its reply gives an answer as if it were right: it has a word of
expect_none (a wrong topic), or it has no abstention or clarification wording (HEDGES: the documents do not
cover it, a question back, a sign-in prompt), like a spec answer with its 依据 line; otherwise it is an unsure
failure. The count is printed beside the pass rate (issue 20: a wrong answer with a 依据 line is worse than no
answer). A knowledge-base answer (KB_MARK) opens with "the procedure document does not cover this" and still
gives an answer with its source: failed, it counts as confident-wrong; the number of knowledge-base answers
(and how many passed) is printed too, so a pass rate that rests on them can be read as such.

Usage: python eval/chat_eval.py CASES.jsonl [--bot URL] [--backend URL] [--min-pass-rate 0.9]
       [--max-confident-wrong 0.03] [--json OUT] [-v]
Exit status 0 when the pass rate reaches --min-pass-rate (and the confident-wrong rate is at most
--max-confident-wrong, when given), else 1.
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

# wording of a reply that does not claim an answer: the documents do not cover it, a question back, a sign-in
# prompt
HEDGES = (
    "没有写",
    "没有提到",
    "没有规定",
    "没有说明",
    "没有给出",
    "只能回答毕业手续",
    "不太明白",
    "你是想问",
    "想问的是",
    "请先登录",
    "需要先登录",
)


# the opening of a knowledge-base answer (bot/domain/knowledge.yml utter_knowledge)
KB_MARK = "就业指导中心整理的说明"


def norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).lower().split())


def post(url: str, body: dict, timeout: float = 30) -> object:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
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


def confident_wrong(reply: str, turn: dict) -> bool:
    """A failed reply that gives a spec answer (see the module docstring)."""
    r = norm(reply)
    if any(norm(w) in r for w in turn.get("expect_none", [])) or norm(KB_MARK) in r:
        return True
    return not any(norm(h) in r for h in HEDGES)


def run_case(
    case: dict, bot: str, backend: str, lat: list[float], kb: list[str] | None = None
) -> tuple[bool, str]:
    """(passed, why); `why` starts with "CONFIDENT-WRONG " for a confident-wrong failure. The case's id is
    added to `kb` when a reply was a knowledge-base answer."""
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
            if kb is not None and norm(KB_MARK) in norm(rep):
                kb.append(case["id"])
            ok, bad = check(rep, turn)
            if not ok:
                tag = "CONFIDENT-WRONG " if confident_wrong(rep, turn) else ""
                return False, tag + f"said {turn['say']!r} -> {rep[:300]!r}" + (
                    f" (must not contain {bad})" if bad else ""
                )
    except Exception as e:  # a dead or erroring assistant fails the case
        return False, f"error: {e}"
    return True, ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases")
    ap.add_argument("--bot", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    ap.add_argument("--backend", default="http://127.0.0.1:8000")
    ap.add_argument("--min-pass-rate", type=float, default=0.0)
    ap.add_argument("--max-confident-wrong", type=float, default=None)
    ap.add_argument("--json", help="write the per-case results and the totals to this file")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    with open(a.cases, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    passed, failed, wrong, lat, by_cat, results, kb = 0, 0, 0, [], {}, [], []
    kb_passed = 0
    for case in cases:
        n_kb = len(kb)
        ok, why = run_case(case, a.bot, a.backend, lat, kb)
        kb_passed += ok and len(kb) > n_kb
        wrong += why.startswith("CONFIDENT-WRONG")
        results.append({"id": case["id"], "passed": ok, "why": why})
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
    wrong_rate = wrong / total if total else 0.0
    print(f"pass rate {rate:.3f}")
    print(f"confident-wrong {wrong} ({wrong_rate:.3f}), unsure failures {failed - wrong}")
    print(f"{passed} passed, {failed} failed")
    print(f"knowledge-base answers in {len(set(kb))} cases, {kb_passed} of them passed")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "cases": a.cases,
                    "total": total,
                    "passed": passed,
                    "confident_wrong": wrong,
                    "pass_rate": rate,
                    "confident_wrong_rate": wrong_rate,
                    "knowledge_answers": len(set(kb)),
                    "knowledge_passed": kb_passed,
                    "results": results,
                },
                f,
                ensure_ascii=False,
                indent=1,
            )
    ok = bool(total) and rate >= a.min_pass_rate
    if a.max_confident_wrong is not None:
        ok = ok and wrong_rate <= a.max_confident_wrong
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build the real-question evaluation sets from harvest.tsv (how and why: eval/real/README.md).

harvest.tsv: one real question per line, verbatim, tab-separated: question, source URL, label. The label says
what a correct reply must contain, judged from the process document alone
(../shared/spec/school-platform-process.md): `A` = the document does not answer it: an honest "the documents
do not cover this" with a person to ask; a topic name = the document's answer on that topic; `X|Y` = either is
correct; `M:word` = the reply must name that field.

Output: real_tune.jsonl and real_test.jsonl (chat_eval.py format), split in half deterministically (questions
sorted by the SHA-1 of their text, alternating). real_test.jsonl is frozen once committed: this script refuses
to overwrite it.

harvest2.tsv (same format) is a second tune set harvested later (eval/real/README.md): `--tune2` builds
real_tune2.jsonl from all of it, in file order, and refuses questions already in harvest.tsv.

Usage: python eval/real/make_sets.py [--force-tune] | --tune2 [--force-tune]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# An honest abstention: says the document does not cover it, and names who can (the person or 转人工).
ABSTAIN = [
    [w, p]
    for w in ("没有写", "没有提到", "没有规定", "没有说明", "没有给出", "只能回答毕业手续")
    for p in ("老师", "转人工")
]

# What the document's answer on a topic must contain (from the spec's wording).
TOPIC = {
    "baodaozheng": [["报到证", "取消"]],
    "gaiqian": [["改签"]],
    # backing out of a signed agreement: the school platform's side is 改签申请（单位变更）; 违约金/解约 are
    # not in the document, so an honest abstention is also right
    "BACKOUT": [["改签"]],
    # "when does the school mail my archive": from what the document says (apply after the national
    # confirmation, the school mails after the 档案邮寄申请), not "the document does not say"
    "MAIL_WHEN": [["确认", "档案邮寄申请"], ["确认", "申请档案邮寄"], ["确认", "申请邮寄"]],
    "hand_carry": [["不能", "档案"]],
    "archive_types_overview": [["转回生源地", "托管单位接收"]],
    "type_other_cases": [],
    "lost_tripartite": [["遗失补办"]],
    "shengyuandi": [["户口所在地"]],
    "type_custody": [["托管单位接收"]],
    "type_hometown": [["转回生源地"]],
    "type_further_same": [["升学本单位接收"]],
    "type_further_other": [["升学外单位接收"]],
    "hukou_choices": [["户口迁移"], ["户口转回原籍"]],
    "postal_code": [["6位"]],
    "personal_info": [["个人信息完善"]],
    "signing_info_fields": [["签约信息"], ["单位性质"]],
    "credit_code": [["国家企业信用信息公示系统"], ["营业执照"]],
    "login_problem": [],
    "login": [["统一身份认证"]],
    "xuandiaosheng": [["选调生"]],
    "archive_seal": [["档案封存"]],
    "review_levels": [["两级审核"]],
}
# Markers of a confidently wrong topic for some labels (the example: backing out of a signed agreement
# answered with the lost-agreement 补办).
WRONG = {
    "BACKOUT": ["遗失补办"],
    "baodaozheng": ["遗失补办"],
    "gaiqian": ["遗失补办"],
}


def expectation(label: str) -> tuple[list, list]:
    groups: list = []
    none: list = []
    for part in label.split("|"):
        if part == "A" or part in ("type_other_cases", "login_problem"):
            groups += ABSTAIN
        elif part.startswith("M:"):
            groups.append([part[2:]])
        else:
            groups += TOPIC[part]
        none += WRONG.get(part, [])
    if "BACKOUT" in label.split("|"):
        groups += ABSTAIN
    uniq = []
    for g in groups:
        if g not in uniq:
            uniq.append(g)
    return uniq, sorted(set(none))


def read_rows(name: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            q, url, label = line.split("\t")
            rows.append((q.strip(), url.strip(), label.strip()))
    seen = set()
    for q, _, _ in rows:
        if q in seen:
            raise SystemExit(f"duplicate question in {name}: {q}")
        seen.add(q)
    return rows


def case(case_id: str, q: str, url: str, label: str) -> dict:
    """One chat_eval.py case for a harvested question and its label."""
    any_, none = expectation(label)
    kind = "abstain" if label == "A" else ("answer" if "A" not in label.split("|") else "either")
    turn = {"say": q, "expect_any": any_}
    if none:
        turn["expect_none"] = none
    return {"id": case_id, "cat": kind, "label": label, "source": url, "turns": [turn]}


def write(out: Path, cases: list[dict]) -> None:
    out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    print(f"{out.name}: {len(cases)} cases")


def build_tune2() -> int:
    """real_tune2.jsonl: every question of harvest2.tsv (a second tune set, harvested after Round 6)."""
    rows = read_rows("harvest2.tsv")
    first = {q for q, _, _ in read_rows("harvest.tsv")}
    again = [q for q, _, _ in rows if q in first]
    if again:
        raise SystemExit(f"already in harvest.tsv: {again}")
    out = HERE / "real_tune2.jsonl"
    if out.exists() and "--force-tune" not in sys.argv:
        print(f"{out.name} exists: not overwritten (pass --force-tune)")
        return 0
    write(out, [case(f"real-tune2-{i:03d}", *row) for i, row in enumerate(rows, 1)])
    return 0


def main() -> int:
    if "--tune2" in sys.argv:
        return build_tune2()
    rows = read_rows("harvest.tsv")
    rows.sort(key=lambda r: hashlib.sha1(r[0].encode()).hexdigest())
    halves: dict[str, list[dict]] = {"tune": [], "test": []}
    for i, (q, url, label) in enumerate(rows):
        half = "test" if i % 2 == 0 else "tune"
        halves[half].append(case(f"real-{half}-{len(halves[half]) + 1:03d}", q, url, label))
    for half, cases in halves.items():
        out = HERE / f"real_{half}.jsonl"
        if out.exists() and (half == "test" or "--force-tune" not in sys.argv):
            print(f"{out.name} exists: not overwritten (frozen)")
            continue
        write(out, cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())

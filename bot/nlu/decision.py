"""The answer / clarify / abstain decision as a pure function (no Rasa import: the tests and eval/calibrate.py
use it directly). The NLU component that applies it, and the design: bot/nlu/confidence.py; thresholds:
docs/nlu.md "Round 5" (read from cross-validation predictions by eval/calibrate.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from contracts.spec_terms import OFF_DOCUMENT

FALLBACK = "nlu_fallback"
OOD_INTENTS = ("near_domain", "out_of_scope")
# intents whose own flow answers the student (the decision leaves them alone): conversation, form and action
# turns, campus questions (utter_out_of_scope is itself an honest "not mine")
OWN_FLOW = {
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "bot_challenge",
    "stop_form",
    "correct_field",
    "handoff",
    "choose_topic",
    "fill_profile",
    "fill_destination",
    "fill_archive",
    "apply_mailing",
    "out_of_scope",
    FALLBACK,
}
ROUTED = 0.999  # a router's decision has confidence 1.0
# Read from the held-out predictions by eval/calibrate.py (docs/nlu.md "Round 5"). A question is a FAQ
# question when the classifier gives `faq` at least `faq_min` (else: near-domain, abstain); it is answered
# when its top answer reaches `answer`; otherwise the top two are asked about when together they reach
# `clarify_pair` and the second reaches `clarify_second`; else abstain. Another intent below `answer` abstains
# when the near-domain classes reach `near`.
THRESHOLDS = {"answer": 0.45, "clarify_pair": 0.5, "clarify_second": 0.05, "near": 0.3, "faq_min": 0.4}

Ranking = Sequence[tuple[str | None, float]]

# Answers about one concrete situation, given only when the message names it (issue 20 b): the lost-agreement
# 补办 answers a loss, the hand-carry answer someone carrying, keeping or posting the archive. Without such a
# word the classifier picked them for their topic words alone ("三方协议…不想去了" -> 补办,
# "档案能存放在任意城市" -> 不能自己带, both from eval/real/real_tune.jsonl); every training example of these
# answers has one (tests/bot/test_confidence.py).
ANSWER_CUES = {
    "faq/lost_tripartite": re.compile(r"丢|遗失|补|找不到|不见|没了|重新领|重新申请"),
    "faq/hand_carry": re.compile(
        r"自己|本人|个人|自行|亲自|自提|自取|带|拿|手里|手上|手中|保管|领走|取走|送|寄|邮|机要|快递|ems|顺丰|家里",
        re.I,
    ),
    # the postal code, not a parcel's tracking number ("邮政单号格式是什么", "邮政快递号码几位数": real_tune2)
    "faq/postal_code": re.compile(r"邮编|邮政编码|编码"),
}


def names_situation(key: str | None, text: str) -> bool:
    """False when `key` is an answer about one situation (ANSWER_CUES) that the message does not name."""
    cue = ANSWER_CUES.get(key or "")
    return cue is None or bool(cue.search(text or ""))


def decide(
    intent: str | None,
    intent_conf: float,
    ranking: Ranking,
    answers: Ranking,
    th: dict[str, float] = THRESHOLDS,
    text: str | None = None,
) -> tuple[str, Any]:
    """("answer", the FAQ key or the intent) | ("clarify", [key1, key2]) | ("abstain", None).

    With `text`, a top answer about a situation the message does not name (ANSWER_CUES) abstains, and so does
    a message about a topic the document never covers (contracts.spec_terms.OFF_DOCUMENT), whatever a router
    or the classifier made of it (a knowledge entry, `ask_knowledge`, is left to the retriever).

    A FAQ answer may be given although `near_domain` ranked first (the question is likely a FAQ question with
    a sure answer); ("answer", "near_domain") is the near-domain flow, itself an abstention."""
    if intent in OWN_FLOW or intent is None:
        return "answer", intent
    if text is not None and intent != "ask_knowledge" and OFF_DOCUMENT.search(text):
        return "abstain", None
    routed = intent_conf >= ROUTED
    probs: dict[str | None, float] = {}
    for name, c in ranking:
        probs.setdefault(name, c)
    if intent not in ("faq", "near_domain"):
        p_near = sum(probs.get(n, 0.0) for n in OOD_INTENTS)
        if not routed and intent_conf < th["answer"] and p_near >= th["near"]:
            return "abstain", None
        return "answer", intent
    if not routed and probs.get("faq", 0.0) < th["faq_min"]:
        return ("answer", "near_domain") if intent == "near_domain" else ("abstain", None)
    if not answers:
        return "abstain", None
    k1, p1 = answers[0]
    if text is not None and not names_situation(k1, text):  # a router's too: "遗失补办" names its situation
        return "abstain", None
    if p1 >= th["answer"] or (routed and p1 >= ROUTED):
        return "answer", k1
    if len(answers) > 1:
        k2, p2 = answers[1]
        if p2 >= th["clarify_second"] and p1 + p2 >= th["clarify_pair"]:
            return "clarify", [k1, k2]
    return "abstain", None

"""The knowledge retriever (bot/nlu/knowledge.py) on the trained model, in Rasa's own venv: the tokenizer and
the classifier run as in Rasa, then the retriever with the thresholds of bot/config.yml against the seed
entries (backend/data/knowledge.yml) and an entry the model never learned.

- Held-out paraphrases (report half of eval/knowledge/paraphrases.yml, never used to choose the thresholds)
  are answered by their own entry; so is a paraphrase of a new entry, with no retraining.
- A question on an entry's topic that it does not answer, and the project's blind-set questions, are not.
- A weak match leaves the classifier's outcome exactly as it was; `ask_knowledge` from the classifier with no
  live entry matching (retired since training) yields to its next intent.
- The thresholds in bot/config.yml are the ones eval/knowledge_threshold.py reads from the tuning half.
"""

from __future__ import annotations

import pytest
import yaml

from system import ROOT, run_on_model

pytestmark = pytest.mark.slow

NEW_ENTRY = {
    "version": 1,
    "answer": "校园卡余额在离校手续中由卡务中心办理退费。",
    "source": "卡务中心通知",
    "questions": ["毕业后校园卡里的余额怎么退", "校园卡余额毕业时能退吗", "离校前饭卡里的钱怎么处理"],
}
NEW_PARAPHRASES = ["毕业离校饭卡里剩的钱能退回来吗", "离校了饭卡的余额怎么退回"]
NEAR_MISSES = ["校园卡丢了怎么办", "社保卡怎么激活", "失业保险怎么申领"]
UNRELATED = ["图书馆借书证丢了咋整", "档案邮寄申请什么时候可以提交", "你好"]

SCRIPT = r"""
import json, sys
sys.path.insert(0, ".")
from eval import knowledge_threshold as K

cfg = K.retriever_config()
pipe = K.Pipeline(sys.argv[1])
new = json.loads(sys.argv[2])
texts = json.loads(sys.argv[3])

def run(entries, texts):
    r = K.retriever(entries)
    msgs = pipe.messages(texts)
    before = [(m.get("intent"), m.get("intent_ranking")) for m in msgs]
    r.process(msgs)
    return [{"text": t, "before": b, "intent": m.get("intent"), "ranking": m.get("intent_ranking"),
             "knowledge": m.get("knowledge")} for t, b, m in zip(texts, before, msgs)]

seed = K.seed_entries()
ev = K.evaluate(pipe, seed, float(cfg["char_weight"]))
out = {"seed": run(seed, texts), "new": run(seed + [new], texts), "none": run([], texts),
       "cfg": cfg, "chosen": ev["rule"], "report": K.outcome(*ev["halves"]["report"], cfg)}
print("RESULT" + json.dumps(out, ensure_ascii=False, default=str))
"""


def report_paraphrases() -> list[tuple[str, str]]:
    data = yaml.safe_load((ROOT / "eval" / "knowledge" / "paraphrases.yml").read_text(encoding="utf-8"))
    return [(q, key) for key, qs in data["paraphrases"].items() for i, q in enumerate(qs) if i % 2 == 1]


@pytest.fixture(scope="module")
def result():
    texts = [q for q, _ in report_paraphrases()] + NEW_PARAPHRASES + NEAR_MISSES + UNRELATED
    data = run_on_model(SCRIPT, NEW_ENTRY, texts, timeout=600)
    return {k: ({r["text"]: r for r in v} if k in ("seed", "new", "none") else v) for k, v in data.items()}


def seed_ids() -> dict[str, int]:
    data = yaml.safe_load((ROOT / "backend" / "data" / "knowledge.yml").read_text(encoding="utf-8"))
    return {e["key"]: i + 1 for i, e in enumerate(data["entries"])}


def test_thresholds_are_the_ones_read_from_the_tuning_half(result):
    cfg, chosen = result["cfg"], result["chosen"]
    assert {k: cfg[k] for k in chosen} == chosen, (
        "bot/config.yml's KnowledgeRetriever settings are not the ones the held-out data gives for this "
        f"model: run `.venv-rasa/bin/python eval/knowledge_threshold.py` and put {chosen} there "
        "(and in docs/knowledge.md)"
    )
    # and on the report half nothing is answered wrong
    assert result["report"]["wrong_entry"] == 0 and result["report"]["taken_over"] == 0, result["report"]


def test_held_out_paraphrases_get_their_entry_and_nothing_wrong(result):
    ids = seed_ids()
    answered = 0
    for text, key in report_paraphrases():
        r = result["seed"][text]
        if r["knowledge"]:
            assert r["knowledge"]["id"] == ids[key], (text, r["knowledge"])
            assert r["intent"]["name"] == "ask_knowledge"
            assert (
                r["ranking"][0]["name"] == "ask_knowledge"
                and sum(x["confidence"] for x in r["ranking"]) <= 1.0001
            )
            answered += 1
    # 12/18 before the near_domain class (issue 20's abstention) was merged; 6/18 since: the thresholds
    # re-read on the held-out data had to rise (docs/knowledge.md "After the merge"). A floor, not a target.
    assert answered >= len(report_paraphrases()) / 3, answered


def test_a_new_entry_answers_paraphrases_without_retraining(result):
    answered = 0
    for text in NEW_PARAPHRASES:
        assert result["seed"][text]["knowledge"] is None, text  # not before the entry exists
        k = result["new"][text]["knowledge"]
        if k:  # never another entry's answer
            assert k["id"] == len(seed_ids()) + 1 and k["answer"] == NEW_ENTRY["answer"], (text, k)
            assert k["source"] == NEW_ENTRY["source"] and k["question"] in NEW_ENTRY["questions"]
            answered += 1
    # both before the near_domain merge; since, 毕业离校饭卡里剩的钱能退回来吗 scores 0.767 against 0.8
    assert answered >= 1, answered


def test_near_misses_and_other_questions_keep_the_classifiers_outcome(result):
    for text in NEAR_MISSES + UNRELATED:
        for run in ("seed", "new"):
            r = result[run][text]
            assert r["knowledge"] is None, (run, text, r["knowledge"])
            if r["before"][0]["name"] != "ask_knowledge":
                assert (r["intent"], r["ranking"]) == tuple(r["before"]), (run, text)  # untouched


def test_ask_knowledge_without_a_live_entry_yields_to_the_next_intent(result):
    demoted = [r for r in result["none"].values() if r["before"][0]["name"] == "ask_knowledge"]
    assert demoted, "no text the classifier calls ask_knowledge: the seed wordings were not trained?"
    for r in demoted:
        assert r["knowledge"] is None and r["intent"]["name"] != "ask_knowledge"
        before = r["before"][1]
        assert r["intent"]["name"] == before[1]["name"] and all(
            x["name"] != "ask_knowledge" for x in r["ranking"]
        )
        # the rest renormalised: the next intent's probability given "not ask_knowledge"
        assert abs(r["intent"]["confidence"] - before[1]["confidence"] / (1 - before[0]["confidence"])) < 1e-6

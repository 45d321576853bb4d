"""The NLU classifier (bot/nlu/linear_classifier.py) in the trained model, loaded by Rasa in its own venv.

- Its output has the shapes the rest of the bot reads: `intent`/`intent_ranking` (FallbackClassifier, routers,
  policies) and `response_selector.faq` like the stock ResponseSelector's (utter_faq's ActionRetrieveResponse
  needs `utter_action`; actions/status.py reads `responses`), with the domain's answer texts.
- Its fast softmax gives exactly sklearn's predict_proba.
- Questions worded unlike any training example (asserted absent from data/nlu) still get their intent: what
  the sentence embedding adds over character n-grams (docs/nlu.md, Round 4).
"""

from __future__ import annotations

import pytest

from system import ROOT, run_on_model

pytestmark = pytest.mark.slow

HELD_OUT = {  # wording absent from the training data -> intent
    "晚安啦明天见": "goodbye",
    "嗯嗯可以的": "affirm",
    "谢谢你呀小助手": "thanks",
    "图书馆借书证丢了咋整": "out_of_scope",
    "请问怎样登录学校的就业网站": "faq",
}
FAQ = {"档案能不能我自己拿着去单位报到": "faq/hand_carry"}

SCRIPT = r"""
import asyncio, json, sys
import numpy as np
from rasa.core.agent import Agent
from bot.nlu.linear_classifier import LinearClassifier, _probabilities, normalise, SEP

agent = Agent.load(sys.argv[1])
texts = json.loads(sys.argv[2])
async def main():
    out = {t: await agent.parse_message(t) for t in texts}
    comp = next(n for n in agent.processor.graph_runner._instantiated_nodes.values()
                if isinstance(getattr(n, "_component", None), LinearClassifier))._component
    m = comp.model
    x = m.features([normalise(t) for t in texts], [SEP.join(t) for t in texts], comp._embed(m, texts))
    diff = max(float(np.abs(_probabilities(m.intents, x) - m.intents.predict_proba(x)).max()),
               float(np.abs(_probabilities(m.answers, x) - m.answers.predict_proba(x)).max()))
    print("RESULT" + json.dumps({"parse": out, "max_diff": diff}, ensure_ascii=False, default=str))
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def parsed():
    return run_on_model(SCRIPT, [*HELD_OUT, *FAQ])


def test_output_has_the_shapes_the_bot_reads(parsed):
    for text, p in parsed["parse"].items():
        ranking = p["intent_ranking"]
        assert ranking and 0.0 < ranking[0]["confidence"] <= 1.0, text
        assert sum(r["confidence"] for r in ranking) <= 1.0 + 1e-6
        assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
        sel = p["response_selector"]
        assert sel["all_retrieval_intents"] == ["faq"]
        resp = sel["faq"]["response"]
        key = resp["intent_response_key"]
        assert key.startswith("faq/") and resp["utter_action"] == f"utter_{key}"
        assert (
            resp["responses"] and resp["responses"][0]["text"] != key
        )  # the domain's answer, not a placeholder
        assert sel["faq"]["ranking"][0]["intent_response_key"] == key


def test_fast_softmax_equals_sklearn(parsed):
    assert parsed["max_diff"] < 1e-9


def test_held_out_wording_gets_its_intent(parsed):
    data = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "data" / "nlu").glob("*.yml"))
    for text in [*HELD_OUT, *FAQ]:
        assert text not in data, f"{text!r} is now a training example: pick another held-out wording"
    got = {t: parsed["parse"][t]["intent"]["name"] for t in HELD_OUT}
    assert got == HELD_OUT
    for text, key in FAQ.items():
        p = parsed["parse"][text]
        assert p["intent"]["name"] == "faq", p["intent"]
        assert p["response_selector"]["faq"]["response"]["intent_response_key"] == key

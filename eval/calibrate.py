#!/usr/bin/env python3
"""Held-out predictions of the NLU (k-fold cross-validation of the pipeline's own components: JiebaTokenizer,
LinearClassifier, SpecRouter) and the confidence thresholds of the answer / clarify / abstain decision read
from them (issue 20; docs/nlu.md "Round 5"; the decision itself: bot/nlu/confidence.py).

It prints
- a reliability table of the FAQ answer confidence (bins of the top answer's probability: share of held-out
  answers in the bin that are right) and the expected calibration error (ECE);
- the utility of the decision for a grid of thresholds on the held-out predictions (a right answer +1, a
  clarification that offers the right topic +0.5, an abstention on a question the documents answer -0.5, a
  wrong answer -3: a wrong answer with a 依据 line is worse than no answer; abstaining on a near-domain
  question +1), and the best thresholds.
Run with the Rasa environment: `.venv-rasa/bin/python -m eval.calibrate [--folds 5] [--json out.json]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer  # noqa: E402
from rasa.shared.importers.rasa import RasaFileImporter  # noqa: E402
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.nlu import decision as C  # noqa: E402
from bot.nlu import linear_classifier as L  # noqa: E402
from bot.nlu.spec_router import SignedInRouter, SpecRouter  # noqa: E402

WRONG_COST, CLARIFY_GAIN, ABSTAIN_COST = 3.0, 0.5, 0.5
MIN_ANSWERED = 0.95


def load(config: dict) -> TrainingData:
    importer = RasaFileImporter(
        config_file=str(ROOT / "bot" / "config.yml"),
        domain_path=str(ROOT / "bot" / "domain"),
        training_data_paths=[str(ROOT / "data")],
    )
    return importer.get_nlu_data()


def component_config(config: dict, name: str) -> dict:
    return next(
        {k: v for k, v in c.items() if k != "name"} for c in config["pipeline"] if c["name"].endswith(name)
    )


def cached_embed():
    cache: dict = {}
    original = L.LinearClassifier._embed

    def embed(model, texts):
        if not model.use_embedding:
            return None
        todo = [t for t in texts if t not in cache]
        if todo:
            vecs = original(model, todo)
            cache.update(zip(todo, vecs, strict=False))
        return np.stack([cache[t] for t in texts])

    L.LinearClassifier._embed = staticmethod(embed)


def record(m: Message) -> dict:
    ranking = m.get("intent_ranking") or []
    sel = (m.get("response_selector") or {}).get("faq") or {}
    answers = [
        (r.get(INTENT_RESPONSE_KEY), float(r.get("confidence") or 0)) for r in sel.get("ranking") or []
    ]
    return {
        "intent": (m.get(INTENT) or {}).get("name"),
        "intent_conf": float((m.get(INTENT) or {}).get("confidence") or 0),
        "ranking": [(r.get("name"), float(r.get("confidence") or 0)) for r in ranking],
        "answers": answers[:3],
    }


def cross_validate(td: TrainingData, config: dict, folds: int, seed: int = 0) -> list[dict]:
    examples = [m for m in td.intent_examples if m.get(TEXT)]
    by_label = defaultdict(list)
    for i, m in enumerate(examples):
        by_label[m.get(INTENT_RESPONSE_KEY) or m.get(INTENT)].append(i)
    fold_of = {}
    rng = random.Random(seed)
    for idx in by_label.values():
        rng.shuffle(idx)
        for k, i in enumerate(idx):
            fold_of[i] = k % folds
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        ctx = ExecutionContext(GraphSchema({}), "calibrate")
        tok = JiebaTokenizer.create(
            {**JiebaTokenizer.get_default_config(), **component_config(config, "Tokenizer")},
            storage,
            Resource("tok"),
            ctx,
        )
        tok.process_training_data(td)
        lc_config = {
            **L.LinearClassifier.get_default_config(),
            **component_config(config, "LinearClassifier"),
        }
        for f in range(folds):
            train = [m for i, m in enumerate(examples) if fold_of[i] != f]
            test_idx = [i for i in range(len(examples)) if fold_of[i] == f]
            clf = L.LinearClassifier.create(lc_config, storage, Resource(f"lc{f}"), ctx)
            clf.train(TrainingData(training_examples=train, responses=td.responses))
            msgs = [Message(data={TEXT: examples[i].get(TEXT)}) for i in test_idx]
            tok.process(msgs)
            clf.process(msgs)
            SpecRouter().process(msgs)
            SignedInRouter().process(msgs)
            for i, m in zip(test_idx, msgs, strict=False):
                r = record(m)
                r.update(
                    {
                        "text": examples[i].get(TEXT),
                        "true_intent": examples[i].get(INTENT),
                        "true_key": examples[i].get(INTENT_RESPONSE_KEY),
                    }
                )
                out.append(r)
            print(f"fold {f + 1}/{folds}: {len(test_idx)} held out", flush=True)
    return out


def reliability(recs: list[dict], bins: int = 10) -> tuple[list, float]:
    """FAQ answer confidence vs. accuracy over held-out faq questions whose predicted intent is faq."""
    pts = [
        (r["answers"][0][1], r["answers"][0][0] == r["true_key"])
        for r in recs
        if r["true_key"] and r["intent"] == "faq" and r["answers"]
    ]
    table, ece = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(c, ok) for c, ok in pts if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not sel:
            continue
        conf = float(np.mean([c for c, _ in sel]))
        acc = float(np.mean([ok for _, ok in sel]))
        table.append((lo, hi, len(sel), conf, acc))
        ece += len(sel) / len(pts) * abs(acc - conf)
    return table, ece


def utility(recs: list[dict], th: dict) -> dict:
    score, counts = 0.0, defaultdict(int)
    for r in recs:
        outcome, detail = C.decide(r["intent"], r["intent_conf"], r["ranking"], r["answers"], th)
        near = r["true_intent"] in ("near_domain", "out_of_scope")
        if outcome == "abstain":
            counts["abstain_near" if near else "abstain_in"] += 1
            score += 1 if near else -ABSTAIN_COST
        elif outcome == "clarify":
            hit = r["true_key"] in detail
            counts["clarify_hit" if hit else "clarify_miss"] += 1
            score += CLARIFY_GAIN if hit else -ABSTAIN_COST
        else:  # answer: the intent (and for faq the answer) it gives
            counts["answered_in"] += not near
            if near:
                ok = detail in ("near_domain", "out_of_scope")
            elif r["true_key"]:
                ok = detail == r["true_key"]
            else:
                ok = detail == r["true_intent"]
            counts["right" if ok else "wrong"] += 1
            score += 1 if ok else -WRONG_COST
    n_in = sum(1 for r in recs if r["true_intent"] not in ("near_domain", "out_of_scope"))
    return {"score": score, "answered_share": round(counts["answered_in"] / n_in, 3), **counts}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--records", type=Path, help="reuse held-out predictions saved by --json")
    a = ap.parse_args(argv)
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    if a.records:
        recs = json.loads(a.records.read_text(encoding="utf-8"))["records"]
    else:
        cached_embed()
        recs = cross_validate(load(config), config, a.folds)
    table, ece = reliability(recs)
    print("\nFAQ answer confidence (held out) | n | mean confidence | accuracy")
    for lo, hi, n, conf, acc in table:
        print(f"[{lo:.1f}, {hi:.1f}) | {n} | {conf:.3f} | {acc:.3f}")
    print(f"ECE {ece:.3f}")
    from sklearn.metrics import f1_score

    ans = [r for r in recs if r["true_key"] and r["answers"]]
    f1_intent = f1_score([r["true_intent"] for r in recs], [r["intent"] for r in recs], average="weighted")
    f1_answer = f1_score([r["true_key"] for r in ans], [r["answers"][0][0] for r in ans], average="weighted")
    print(
        f"held-out weighted F1: intent {f1_intent:.3f}, FAQ answer {f1_answer:.3f} "
        "(after the routers, before the decision)"
    )
    intents = [r for r in recs if not r["true_key"]]
    print(
        f"held out: {len(recs)} examples, intent accuracy "
        f"{np.mean([r['intent'] == r['true_intent'] for r in recs]):.3f}, faq answer accuracy "
        f"{np.mean([r['answers'][0][0] == r['true_key'] for r in ans]):.3f}, "
        f"{len(intents)} non-faq"
    )
    grid = {
        "answer": [0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7],
        "clarify_pair": [0.4, 0.5, 0.6, 0.7],
        "clarify_second": [0.05, 0.1, 0.15],
        "near": [0.3, 0.4, 0.5],
        "faq_min": [0.2, 0.3, 0.4, 0.5, 0.6],
    }
    results = []
    for vals in itertools.product(*grid.values()):
        th = dict(zip(grid, vals, strict=False))
        results.append((utility(recs, th), th))
    results.sort(key=lambda x: -x[0]["score"])
    print("\nbest thresholds (utility on held-out predictions):")
    for u, th in results[:3]:
        print(th, u)
    # a clarification costs the student a click and an abstention leaves them without the answer: among the
    # settings that answer at least MIN_ANSWERED of the in-domain questions directly, the best utility
    results = [x for x in results if x[0]["answered_share"] >= MIN_ANSWERED]
    print(
        f"\nbest thresholds answering at least {MIN_ANSWERED:.0%} of in-domain held-out questions directly:"
    )
    for u, th in results[:5]:
        print(th, u)
    print("current:", C.THRESHOLDS, utility(recs, C.THRESHOLDS))
    if a.json:
        a.json.write_text(
            json.dumps(
                {"records": recs, "reliability": table, "ece": ece, "best": results[0][1]}, ensure_ascii=False
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

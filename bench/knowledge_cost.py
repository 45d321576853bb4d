"""What the knowledge retriever (bot/nlu/knowledge.py) costs a turn (issue 20 §2, docs/knowledge.md).

1. End to end, with the retriever in the pipeline as shipped (bot/config.yml, the seed entries live): the FAQ
   turn with one client (the FAQ messages `make bench` picks, bench/workload.py choose_messages), and a turn
   answered from the knowledge base (held-out paraphrases of the seed entries that the retriever answers),
   through the REST channel of the whole assistant (system/, fresh seeded database).
2. In process, on the trained model: the retriever's own time per message (features already computed by the
   classifier), and the classifier's, over the same FAQ messages.

    PYTHONPATH=. .venv/bin/python -m bench.knowledge_cost [--turns 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.load import Scenario, run_load
from bench.workload import choose_messages, probe
from system import ROOT, System, dev_login, run_on_model

IN_PROCESS = r"""
import json, sys, time
sys.path.insert(0, ".")
import numpy as np
from eval import knowledge_threshold as K
pipe = K.Pipeline(sys.argv[1])
texts = json.loads(sys.argv[2])
r = K.retriever(K.seed_entries())
msgs = pipe.messages(texts)  # tokenizer + classifier, features on the messages
r.process(msgs[:1])  # the index is built off the turns in Rasa (poller); here once, before timing
clf, ret = [], []
from rasa.shared.nlu.training_data.message import Message
for t, m in zip(texts, msgs):
    fresh = Message({"text": t}); pipe.tokenizer.process([fresh])
    t0 = time.perf_counter(); pipe.classifier.process([fresh]); clf.append((time.perf_counter() - t0) * 1000)
    for _ in range(50):
        t0 = time.perf_counter(); r.process([m]); ret.append((time.perf_counter() - t0) * 1000)
print("RESULT" + json.dumps({
    "classifier_ms_p50": float(np.median(clf)),
    "retriever_ms_p50": float(np.median(ret)),
    "retriever_ms_p95": float(np.percentile(ret, 95)),
    "messages": len(clf),
    "wordings": sum(len(e["questions"]) for e in r.snapshot[1]),
}))
"""


def in_process(texts: list[str]) -> dict:
    return run_on_model(IN_PROCESS, texts, timeout=600)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=300)
    a = ap.parse_args(argv)
    from eval.knowledge_threshold import positives

    res: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        system = System(database_url=f"sqlite:///{tmp}/app.db", log_dir=Path(tmp) / "log", rasa_api=True)
        system.start()
        try:
            token = dev_login(system.backend_url, "2025000005")
            faq = [
                p["text"]
                for p in choose_messages(system, ROOT / "eval" / "cases" / "faq.jsonl", token)["faq"]
            ]
            kb = [q for q, _ in positives() if "action_answer_knowledge" in probe(system, q, None)["actions"]]
            print(f">> {len(faq)} FAQ messages, {len(kb)} knowledge-base paraphrases answered", flush=True)
            for name, msgs in (("faq", faq), ("knowledge", kb)):
                r = asyncio.run(
                    run_load(
                        system.rest_webhook,
                        Scenario(name, msgs),
                        concurrency=1,
                        max_turns=a.turns,
                        max_seconds=120,
                        warmup=10,
                    )
                )
                res[name] = r.summary()
                print(json.dumps(res[name], ensure_ascii=False), flush=True)
        finally:
            system.stop()
    res["in_process"] = in_process(faq)
    res["load_avg"] = os.getloadavg()
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Answers from the knowledge base staff grow, without retraining (issue 20 §2; docs/knowledge.md).

The backend keeps the entries (a few question wordings, the answer, its source;
backend/services/knowledge.py). A thread of the Rasa process polls `GET {url}?since=<revision>` (integration
key) every `poll_seconds`, off the students' turns, and featurizes every live wording with the
LinearClassifier's own features: the char n-gram TF-IDF row (the classifier's vocabulary) and the sentence
embedding. On a turn, the message's features are the ones the classifier already computed (put on the message,
bot/nlu/linear_classifier.py `FEATURES`), so retrieval costs a small dot product (~0.02 ms).

score(message, entry) = max over the entry's wordings of
    char_weight * cos(char n-grams) + (1 - char_weight) * cos(embedding)
(char_weight 0.1 as shipped: on held-out data the embedding tells paraphrases from near misses far better than
the char n-grams, which share the topic's characters with both; they count mostly through the classifier.)

- score >= `threshold` + `confidence_weight` * sure, where sure is the classifier's confidence in its own
  intent (times the FAQ answer's confidence when that intent is `faq`; 0 when it is out of scope): the entry
  answers. A question the classifier knows well (a spec question close in words to an entry) needs a
  near-verbatim match; one it is unsure of (a paraphrase of an entry it never learned) needs less. The numbers
  are read from held-out paraphrases, near misses and the project's eval questions
  (eval/knowledge_threshold.py, docs/knowledge.md). The intent becomes `ask_knowledge` with the score as
  confidence (the other intents scaled into the rest), and the parse data carries `knowledge` {id, version,
  answer, source, score, question}, which action_answer_knowledge utters (answer + "依据：<source>").
- The classifier itself chose `ask_knowledge` (it learned the entries' wordings at the last `make train`): the
  best entry answers from `classified_threshold`; below it (e.g. the entry was retired since), `ask_knowledge`
  is removed from the ranking and the classifier's next intent stands, with the probabilities renormalised.
- Otherwise nothing changes: a weak match never overrides the classifier.

Retired entries leave the snapshot, so they stop answering within `poll_seconds` (the next turn). Without the
backend the last snapshot is kept (a retirement needs the backend, which then serves it); before the first
one, retrieval answers nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np
import requests
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import RESPONSE_SELECTOR_PREDICTION_KEY, RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.linear_classifier import FEATURES, Features, LinearClassifier
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

INTENT_NAME = "ask_knowledge"
KNOWLEDGE = "knowledge"  # parse-data key read by actions/knowledge.py


def _default_url() -> str:
    return rasa_settings().backend_url + "/api/integration/knowledge"


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


class Index:
    """The live entries featurized by one classifier model (immutable: the poller swaps in a new one)."""

    def __init__(self, revision: int, entries: list[dict[str, Any]], model: Any) -> None:
        self.revision, self.entries, self.model = revision, entries, model
        texts = [q for e in entries for q in e["questions"]]
        self.owner = np.array([i for i, e in enumerate(entries) for _ in e["questions"]], dtype=np.int64)
        self.questions = texts
        if texts:
            chars, emb = LinearClassifier.featurize(model, texts)
            self.chars_t = chars.T.tocsr()
            self.emb_t = None if emb is None else np.ascontiguousarray(_unit_rows(emb).T)
        else:
            self.chars_t = self.emb_t = None

    def best(self, f: Features, char_weight: float) -> tuple[int | None, float, str | None]:
        """(entry index, score, the wording that matched) of the best entry; (None, 0, None) without
        entries."""
        if self.chars_t is None:
            return None, 0.0, None
        if self.emb_t is None or f.embedding is None:  # a model without the embedding: char n-grams alone
            char_weight = 1.0
        scores: Any = 0.0
        if char_weight > 0:
            scores = char_weight * np.asarray((f.chars @ self.chars_t).todense()).ravel()
        if char_weight < 1:
            assert f.embedding is not None and self.emb_t is not None  # else char_weight is 1
            e = f.embedding / (np.linalg.norm(f.embedding) or 1.0)
            scores = scores + (1.0 - char_weight) * (e @ self.emb_t)
        row = int(np.argmax(scores))
        return int(self.owner[row]), float(scores[row]), self.questions[row]


# outcomes that answer nothing (config `no_answer_intents`): the classifier being sure of them is no reason to
# keep a knowledge entry out
NO_ANSWER_INTENTS = ("out_of_scope", "nlu_fallback")


def sure(message: Message, no_answer: tuple = NO_ANSWER_INTENTS) -> float:
    """How sure the classifier is of an answer of its own: its intent's confidence, times the FAQ answer's
    confidence when the intent is the FAQ retrieval intent (a sure `faq` with an unsure answer is an unsure
    outcome); 0 for an outcome that answers nothing (out of scope: exactly what a knowledge entry adds)."""
    intent = message.get(INTENT) or {}
    if intent.get(INTENT_NAME_KEY) in no_answer:
        return 0.0
    conf = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    selected = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(intent.get(INTENT_NAME_KEY) or "")
    if isinstance(selected, dict):
        conf *= float(selected.get(RESPONSE_SELECTOR_PREDICTION_KEY, {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    return conf


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class KnowledgeRetriever(GraphComponent):
    """Overrides the intent with `ask_knowledge` when a live knowledge entry matches the message strongly."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "url": None,
            "poll_seconds": 0.5,
            "timeout": 2.0,
            "threshold": 0.74,
            "confidence_weight": 0.15,
            "classified_threshold": 0.74,
            "char_weight": 0.1,
            "no_answer_intents": list(NO_ANSWER_INTENTS),
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {**self.get_default_config(), **config}
        self.url = self.config["url"] or _default_url()
        self.key = rasa_settings().integration_key
        self.threshold = float(self.config["threshold"])
        self.confidence_weight = float(self.config["confidence_weight"])
        self.classified_threshold = float(self.config["classified_threshold"])
        self.char_weight = float(self.config["char_weight"])
        self.poll_seconds = float(self.config["poll_seconds"])
        self.no_answer = tuple(self.config["no_answer_intents"])
        self.snapshot: tuple[int, list[dict[str, Any]]] | None = None  # (revision, live entries)
        self.index: Index | None = None
        self.model: Any = None  # the classifier's model, once a message showed it
        self._lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._session = requests.Session()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KnowledgeRetriever:
        return cls(config)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KnowledgeRetriever:
        component = cls(config)
        component.start()
        return component

    # --- the live entries ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.poll_seconds > 0 and (self._poller is None or not self._poller.is_alive()):
            self._poller = threading.Thread(target=self._poll, name="knowledge-poller", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        failing = False
        while True:
            try:
                self.sync()
                if failing:
                    logger.info("knowledge base: the backend answers again")
                failing = False
            except Exception as e:  # noqa: BLE001 - keep the last snapshot until the backend answers again
                if not failing:
                    logger.warning(
                        "knowledge base: backend unreachable (%s: %s); keeping the last entries",
                        type(e).__name__,
                        e,
                    )
                failing = True
            time.sleep(self.poll_seconds)

    def sync(self) -> None:
        """Fetch the entries when they changed, and featurize them (here, off the turns) once a model is
        known."""
        params = {"since": self.snapshot[0]} if self.snapshot else {}
        r = self._session.get(
            self.url,
            params=params,
            headers={"X-Integration-Key": self.key},
            timeout=float(self.config["timeout"]),
        )
        r.raise_for_status()
        data = r.json()
        if data.get("changed"):
            self.snapshot = (int(data["revision"]), list(data.get("entries") or []))
        if self.model is not None:
            self._current_index(self.model)

    def _current_index(self, model: Any) -> Index | None:
        snap, idx = self.snapshot, self.index
        if snap is None:
            return None
        if idx is None or idx.revision != snap[0] or idx.model is not model:
            with self._lock:
                idx = self.index
                if idx is None or idx.revision != snap[0] or idx.model is not model:
                    idx = self.index = Index(snap[0], snap[1], model)
        return idx

    # --- prediction ---------------------------------------------------------------------------------------
    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            f = message.get(FEATURES)
            if not isinstance(f, Features):
                continue
            self.model = f.model
            idx = self._current_index(f.model)
            entry, score, question = idx.best(f, self.char_weight) if idx else (None, 0.0, None)
            classified = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == INTENT_NAME
            needed = (
                self.classified_threshold
                if classified
                else self.threshold + self.confidence_weight * sure(message, self.no_answer)
            )
            if idx is not None and entry is not None and score >= needed:
                self._answer(message, idx.entries[entry], score, question)
            elif classified:
                self._demote(message)
        return messages

    @staticmethod
    def _answer(message: Message, entry: dict[str, Any], score: float, question: str | None) -> None:
        score = min(score, 1.0)
        others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != INTENT_NAME]
        total = sum(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0 for r in others) or 1.0
        top = {INTENT_NAME_KEY: INTENT_NAME, PREDICTED_CONFIDENCE_KEY: score}
        ranking = [top] + [
            {**r, PREDICTED_CONFIDENCE_KEY: (1.0 - score) * (r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) / total}
            for r in others
        ]
        message.set(INTENT, dict(top), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set(
            KNOWLEDGE,
            {
                "id": entry["id"],
                "version": entry["version"],
                "answer": entry["answer"],
                "source": entry["source"],
                "score": round(score, 4),
                "question": question,
            },
            add_to_output=True,
        )

    @staticmethod
    def _demote(message: Message) -> None:
        """The classifier said `ask_knowledge` but no live entry matches: its outcome without that intent
        stands (the other intents' probabilities given "not ask_knowledge", so the FallbackClassifier judges
        the next intent as if the knowledge base's wordings had never been trained)."""
        full = message.get(INTENT_RANKING_KEY) or []
        gone = sum(
            r.get(PREDICTED_CONFIDENCE_KEY) or 0.0 for r in full if r.get(INTENT_NAME_KEY) == INTENT_NAME
        )
        scale = 1.0 / (1.0 - gone) if gone < 1.0 else 1.0
        ranking = [
            {**r, PREDICTED_CONFIDENCE_KEY: min(1.0, (r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) * scale)}
            for r in full
            if r.get(INTENT_NAME_KEY) != INTENT_NAME
        ]
        if ranking:
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

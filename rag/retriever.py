"""Hybrid retrieval: dense (e5 + FAISS or Milvus) and BM25 candidates, fused into one list."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .arabic import normalize
from .config import FUSIONS, Settings
from .embedder import Embedder
from .errors import QueryError
from .language import arabic_share
from .types import Chunk, Document, Passage

log = logging.getLogger(__name__)

# The model truncates at its max tokens anyway; cutting characters first keeps a pasted
# book from being tokenized whole. No tokenizer we use averages over 8 characters a token.
CHARS_PER_TOKEN_BOUND = 8

Hits = list[tuple[int, float]]  # (row, score), best first


class CandidateSource(Protocol):
    """Where candidates come from: an index version on disk (rag.version.IndexVersion: FAISS
    and BM25 postings per segment), an index in memory (rag.store.IndexData: FAISS + bm25s)
    or a Milvus collection (rag.milvus_store.MilvusIndex). Rows are chunk ids."""

    version: str

    @property
    def size(self) -> int: ...

    def dense_search(self, query_vector: np.ndarray, n: int) -> Hits: ...

    def lexical_search(self, query: str, n: int) -> Hits: ...

    def chunks_at(self, rows: list[int]) -> dict[int, Chunk]: ...

    def documents_of(self, doc_ids: set[str]) -> dict[str, Document]: ...


@dataclass
class Candidates:
    """Each retriever's own ranked list for one query."""

    dense: Hits
    lexical: Hits
    arabic_share: float  # of the query's letters; scales the BM25 weight
    query_vector: np.ndarray  # reusable by EvidenceSelector.select


def rrf(ranked: list[tuple[Hits, float]], rrf_k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: sum of weight / (rrf_k + rank) over the lists."""
    fused: dict[int, float] = {}
    for hits, weight in ranked:
        for rank, (row, _) in enumerate(hits, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (rrf_k + rank)
    return fused


def convex(ranked: list[tuple[Hits, float]]) -> dict[int, float]:
    """Weighted sum of min-max normalized scores; a row missing from a list scores 0 there.

    Unlike RRF this keeps how far apart the scores are: a BM25 hit on a rare name that
    towers over the rest counts for more than a near tie. XQuAD AR->AR recall@1: 0.915 with
    dense_weight 0.6 (0.5-0.6 tie), against 0.900 for RRF (k=60) and 0.882 for dense alone.
    """
    fused: dict[int, float] = {}
    for hits, weight in ranked:
        if not hits or weight <= 0:
            continue
        scores = [s for _, s in hits]
        low, span = min(scores), max(scores) - min(scores)
        for row, score in hits:
            value = (score - low) / span if span > 0 else 1.0
            fused[row] = fused.get(row, 0.0) + weight * value
    return fused


class HybridRetriever:
    """Finds the chunks of an index that best answer a query.

    Dense and BM25 scores are min-max normalized and mixed, `dense_weight` to the rest
    (`fusion="rrf"` gives plain reciprocal rank fusion instead). BM25 matches
    Arabic surface forms, so its weight scales with the share of Arabic letters in the query:
    for an English question over Arabic news it matches little beyond a few Latin names, and
    min-max normalization would inflate those weak matches (measured on XQuAD, see
    benchmarks/xquad_retrieval.py).
    """

    def __init__(self, index: CandidateSource, embedder: Embedder, *, top_k: int, candidates: int,
                 fusion: str, dense_weight: float, rrf_k: int) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
        self.n_candidates = candidates  # per retriever, before fusion
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.rrf_k = rrf_k
        self.last_timings: dict[str, float] = {}  # seconds per stage of the last search

    @classmethod
    def from_settings(cls, index: CandidateSource, embedder: Embedder,
                      settings: Settings) -> HybridRetriever:
        return cls(index, embedder, top_k=settings.top_k, candidates=settings.candidates,
                   fusion=settings.fusion, dense_weight=settings.dense_weight,
                   rrf_k=settings.rrf_k)


    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """The `k` (default top_k) best distinct chunks for `query`, ranks 1..k."""
        k = self.top_k if k is None else k
        if not isinstance(query, str) or not query.strip():
            raise QueryError("The search query is empty. Type a question or some keywords.")
        self.last_timings = {}
        if k <= 0 or self.index.size == 0:
            return []
        candidates = self.candidates(query)
        started = time.perf_counter()
        passages = self.fuse(candidates, k)
        self.last_timings["fusion"] = time.perf_counter() - started
        return passages

    def candidates(self, query: str, query_vector: np.ndarray | None = None) -> Candidates:
        """Top `n_candidates` rows from each retriever (timed in `last_timings`)."""
        n = self.n_candidates
        started = time.perf_counter()
        if query_vector is None:
            limit = self.embedder.max_tokens * CHARS_PER_TOKEN_BOUND
            query_vector = self.embedder.embed_query(query[:limit])
        embedded = time.perf_counter()
        dense = self.index.dense_search(query_vector, n)
        searched = time.perf_counter()
        share = arabic_share(query) or 0.0
        lexical = self.index.lexical_search(query, n) if share > 0 else []
        done = time.perf_counter()
        self.last_timings.update(embed=embedded - started, dense=searched - embedded,
                                 lexical=done - searched)
        return Candidates(dense, lexical, share, query_vector)

    def dense_search(self, query_vector: np.ndarray, n: int) -> Hits:
        return self.index.dense_search(query_vector, n)

    def fuse(self, candidates: Candidates, k: int) -> list[Passage]:
        """The fused ranking's top `k` chunks with distinct texts."""
        if self.fusion == "rrf":
            fused = rrf([(candidates.dense, 1.0), (candidates.lexical, 1.0)], self.rrf_k)
        else:
            lexical_weight = (1.0 - self.dense_weight) * candidates.arabic_share
            fused = convex([(candidates.dense, self.dense_weight),
                            (candidates.lexical, lexical_weight)])
        dense = dict(candidates.dense)
        lexical = dict(candidates.lexical)
        passages: list[Passage] = []
        seen: set[str] = set()
        ranked = sorted(fused, key=lambda r: (-fused[r], r))
        chunks = self.index.chunks_at(ranked)
        documents = self.index.documents_of({c.doc_id for c in chunks.values()})
        for row in ranked:
            chunk = chunks[row]
            # The same wire story is often filed twice; one copy is enough for the answer.
            key = " ".join(normalize(chunk.text).split())
            if key in seen:
                continue
            seen.add(key)
            passages.append(Passage(chunk=chunk, document=documents[chunk.doc_id],
                                    score=fused[row], dense_score=dense.get(row),
                                    lexical_score=lexical.get(row), rank=len(passages) + 1))
            if len(passages) == k:
                break
        return passages

"""Evidence: the few sentences of the retrieved passages that the answering prompt shows.

A small model answers better from six relevant sentences than from five whole chunks, and a
sentence is what a citation quotes. Each sentence is scored by its dense similarity to the
question, its word overlap with it, and the rank of the passage it came from; for a question
that is not Arabic also by a token-level match (each question token's best match among the
sentence's tokens), which pairs an English question with the Arabic words that answer it
better than one vector per sentence does. As many sentences are taken as score within a
margin of the best (for questions that are not Arabic): few when one sentence stands out,
more when the scores are close. The
weights and the margin (in Settings) were tuned on XQuAD's calibration half
(benchmarks/xquad_retrieval.py: answer-bearing sentence recall).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .arabic import tokenize
from .claims import addresses_assistant
from .config import Settings
from .embedder import Embedder
from .language import arabic_share
from .sentences import split_sentences
from .types import Evidence, Passage

log = logging.getLogger(__name__)

MIN_SENTENCE_CHARS = 30  # shorter pieces ("قال:", a dateline) are merged with a neighbour
MAX_SENTENCE_CHARS = 600  # a longer "sentence" (no punctuation) is cut to the chunk's part


@dataclass
class _Unit:
    """A candidate sentence: a span of the passage's document text."""

    passage: Passage
    start: int
    end: int
    text: str


class EvidenceSelector:
    """Picks up to `n` sentences that best support answering a question, numbered 1..n.

        selector = EvidenceSelector.from_settings(embedder, settings)
        evidence = selector.select(question, passages, settings.evidence_sentences)
    """

    def __init__(self, embedder: Embedder, *, dense_weight: float, lexical_weight: float,
                 rank_weight: float, token_weight: float, max_tokens: int,
                 min_sentences: int, margin: float, cache_size: int = 20_000,
                 token_cache_size: int = 500) -> None:
        self.embedder = embedder
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight
        self.token_weight = token_weight  # x the question's non-Arabic share
        self.max_tokens = max_tokens  # e5 tokens over all evidence: keeps the prompt small
        self.min_sentences = min_sentences
        self.margin = margin  # math.inf: always n sentences
        self.cache_size = cache_size
        # Sentence vectors by text: a follow-up question usually retrieves the same chunks.
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Token vectors, ~35 kB a sentence in float16: 500 (~17 MB) still hold the ~20
        # sentences a follow-up question usually scores again.
        self.token_cache_size = token_cache_size
        self._token_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def from_settings(cls, embedder: Embedder, settings: Settings) -> EvidenceSelector:
        return cls(embedder, dense_weight=settings.evidence_dense_weight,
                   lexical_weight=settings.evidence_lexical_weight,
                   rank_weight=settings.evidence_rank_weight,
                   token_weight=settings.evidence_token_weight,
                   max_tokens=settings.evidence_max_tokens,
                   min_sentences=settings.evidence_min_sentences,
                   margin=settings.evidence_margin)

    def clear_cache(self) -> None:
        """Forget the sentence vectors (benchmarks time a first question this way)."""
        self._cache.clear()
        self._token_cache.clear()

    def select(self, question: str, passages: list[Passage], n: int,
               query_vector: np.ndarray | None = None) -> list[Evidence]:
        """The best sentences within the token budget, numbered by passage rank then position:
        at least `min_sentences`, then (for a question that is not Arabic) those within
        `margin` of the best score, at most `n`.

        `query_vector` (the retriever's embedding of the question) saves one model call.
        """
        units = self.units(passages)
        if not units or n <= 0:
            return []
        scores = self.score(question, units, query_vector)
        chosen: list[tuple[_Unit, float]] = []
        # An Arabic question keeps min_sentences: on the seed set the extra sentences cost
        # Arabic answers (right 0.654 -> 0.615, an unanswerable question answered).
        margin = self.margin if (arabic_share(question) or 0.0) < 0.5 else 0.0
        budget, floor = self.max_tokens, scores.max() - margin
        for i in np.argsort(-scores, kind="stable"):
            if len(chosen) >= self.min_sentences and scores[i] < floor:
                break
            unit = units[int(i)]
            cost = self.embedder.count_tokens(unit.text)
            if chosen and cost > budget:
                continue  # a shorter, lower-scored sentence may still fit
            chosen.append((unit, float(scores[i])))
            budget -= cost
            if len(chosen) == n or budget <= 0:
                break
        chosen.sort(key=lambda us: (us[0].passage.rank, us[0].passage.document.doc_id,
                                    us[0].start))
        return [Evidence(number=i, text=u.text, start=u.start, end=u.end, passage=u.passage,
                         score=s) for i, (u, s) in enumerate(chosen, start=1)]

    def ranked(self, question: str, passages: list[Passage]) -> list[Evidence]:
        """Every sentence of the passages, best first, numbered in that order (no budget)."""
        units = self.units(passages)
        if not units:
            return []
        scores = self.score(question, units, None)
        order = np.argsort(-scores, kind="stable")
        return [Evidence(number=n, text=units[i].text, start=units[i].start, end=units[i].end,
                         passage=units[i].passage, score=float(scores[i]))
                for n, i in enumerate((int(i) for i in order), start=1)]

    def best_sentence(self, question: str, passages: list[Passage],
                      query_vector: np.ndarray | None = None) -> dict[int, float]:
        """Each passage's best sentence cosine with the question, by chunk id (the vectors
        are cached: the evidence chosen next from the same passages costs nothing more)."""
        units = self.units(passages)
        if not units:
            return {}
        dense = self._dense(question, [u.text for u in units], query_vector)
        best: dict[int, float] = {}
        for unit, score in zip(units, dense, strict=True):
            row = unit.passage.chunk.chunk_id
            best[row] = max(best.get(row, -1.0), float(score))
        return best

    def units(self, passages: list[Passage]) -> list[_Unit]:
        """The document's sentences that overlap each passage's chunk, in document offsets.

        Whole document sentences rather than the chunk's own: a chunk that starts with the
        overlap from its predecessor begins mid-sentence, and on XQuAD the answer was then
        often in a fragment (answer-sentence recall@6 0.92 -> 0.95 AR, 0.83 -> 0.88 EN).
        A sentence shared by two overlapping chunks is kept once, under the better passage.
        A sentence that addresses the assistant (rag.claims.addresses_assistant) is left out.
        """
        units: list[_Unit] = []
        taken: dict[str, list[tuple[int, int]]] = {}
        for passage in sorted(passages, key=lambda p: p.rank):
            doc, chunk = passage.document, passage.chunk
            for start, end in _merge_short(split_sentences(doc.text), doc.text):
                if end <= chunk.start or start >= chunk.end:
                    continue
                if end - start > MAX_SENTENCE_CHARS:  # unpunctuated text: keep the chunk's part
                    start, end = _strip(doc.text, max(start, chunk.start), min(end, chunk.end))
                spans = taken.setdefault(doc.doc_id, [])
                if end <= start or any(start < b and a < end for a, b in spans):
                    continue
                if addresses_assistant(doc.text[start:end]):
                    continue  # a planted instruction: never shown to the model, never support
                spans.append((start, end))
                units.append(_Unit(passage, start, end, doc.text[start:end]))
        return units

    def score(self, question: str, units: list[_Unit],
              query_vector: np.ndarray | None = None) -> np.ndarray:
        texts = [u.text for u in units]
        dense = self._dense(question, texts, query_vector)
        lexical = _idf_overlap(question, texts)
        prior = np.array([1.0 / u.passage.rank if u.passage.rank > 0 else 0.0 for u in units])
        scores = (self.dense_weight * dense + self.lexical_weight * lexical
                  + self.rank_weight * prior)
        # Arabic questions share words with Arabic text and gained nothing from it, and
        # skipping it spares a second pass of the model over the sentences.
        token_weight = self.token_weight * (1.0 - (arabic_share(question) or 0.0))
        if token_weight > 0:
            scores += token_weight * self._token_match(question, texts)
        return scores

    def _token_match(self, question: str, texts: list[str]) -> np.ndarray:
        """Each question token's best cosine among a sentence's tokens, averaged (ColBERT's
        late interaction, BERTScore's recall)."""
        asked = self.embedder.embed_tokens([question])[0]
        sentences = _cached(self._token_cache, texts, self.token_cache_size, lambda missing: [
            v.astype(np.float16) for v in self.embedder.embed_tokens(missing)])
        return np.array([float((asked @ v.astype(np.float32).T).max(axis=1).mean())
                         if len(asked) and len(v) else 0.0 for v in sentences])

    def _dense(self, question: str, texts: list[str],
               query_vector: np.ndarray | None) -> np.ndarray:
        if query_vector is None:
            query_vector = self.embedder.embed_query(question)
        vectors = np.stack(_cached(self._cache, texts, self.cache_size,
                                   self.embedder.embed_passages))
        return vectors @ np.asarray(query_vector, dtype=np.float32)


def _cached(cache: OrderedDict[str, np.ndarray], texts: list[str], size: int,
            compute: Callable[[list[str]], Sequence[np.ndarray]]) -> list[np.ndarray]:
    """`compute`'s value for each text, from an LRU cache of `size` texts."""
    missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        for text, value in zip(missing, compute(missing), strict=True):
            cache[text] = value
    values = []
    for text in texts:
        cache.move_to_end(text)
        values.append(cache[text])
    while len(cache) > size:
        cache.popitem(last=False)
    return values


def _idf_overlap(question: str, texts: list[str]) -> np.ndarray:
    """Share of the question's words found in each sentence, weighted by how rare each word
    is among these sentences (a local IDF: no corpus statistics needed)."""
    query = set(tokenize(question))
    sentences = [set(tokenize(t)) for t in texts]
    if not query or not sentences:
        return np.zeros(len(texts))
    n = len(sentences)
    idf = {w: math.log(1 + n / (1 + sum(w in s for s in sentences))) for w in query}
    total = sum(idf.values())
    return np.array([sum(idf[w] for w in query & s) / total for s in sentences])


def _merge_short(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join pieces shorter than MIN_SENTENCE_CHARS to the following sentence (the last one to
    the preceding), so that no evidence is a bare "وقال:" or a dateline."""
    merged: list[tuple[int, int]] = []
    pending: int | None = None  # start of a short piece waiting for its successor
    for start, end in spans:
        if pending is not None:
            start, pending = pending, None
        if end - start < MIN_SENTENCE_CHARS:
            pending = start
            continue
        merged.append((start, end))
    if pending is not None:
        last_end = spans[-1][1]
        if merged:
            merged[-1] = (merged[-1][0], last_end)
        elif text[pending:last_end].strip():
            merged.append((pending, last_end))
    return merged


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow [start, end) so that the span neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end

"""BM25 over chunk texts (bm25s), with Arabic normalization and light stemming."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from .arabic import g_variants, tokenize

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG, so "Building index from tokens" reached every terminal.
logging.getLogger("bm25s").setLevel(logging.WARNING)

MAX_QUERY_TOKENS = 256  # a pasted article as a "question" is cut here; BM25 needs no more
SIZE_FILE = "size.json"  # beside bm25s's own files: the row count, also for an empty corpus


def query_tokens(query: str, tokenizer: Callable[[str], list[str]] = tokenize
                 ) -> tuple[list[str], list[str]]:
    """The query's tokens (the first MAX_QUERY_TOKENS), and their غ/ج spelling variants."""
    tokens = tokenizer(query)[:MAX_QUERY_TOKENS]
    return tokens, [v for token in tokens for v in g_variants(token)]


class LexicalIndex:
    """A BM25 index over a list of texts; `search` returns (row, score) pairs, best first."""

    def __init__(self, texts: Sequence[str], tokenizer: Callable[[str], list[str]] = tokenize,
                 k1: float = 1.2, b: float = 0.75, variant_weight: float = 0.5) -> None:
        self.tokenizer = tokenizer
        self.size = len(texts)
        # Another spelling of a foreign name (شويغو / شويجو) counts, but less than the
        # spelling asked for: the swap can also turn one real word into another (غرب, جرب).
        self.variant_weight = variant_weight
        self._bm25: bm25s.BM25 | None = None
        self._vocab: dict[str, int] = {}
        corpus = [tokenizer(t) for t in texts]
        if not any(corpus):
            return  # nothing to match: every search returns []
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        self._bm25.index(corpus, show_progress=False)
        self._vocab = {t: i for t, i in self._bm25.vocab_dict.items() if t}

    def save(self, folder: Path) -> None:
        """Write the scored index to `folder` (created), so that no reader rebuilds it."""
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        (folder / SIZE_FILE).write_text(json.dumps({"size": self.size}))

    @classmethod
    def load(cls, folder: Path, mmap: bool = True, variant_weight: float = 0.5,
             tokenizer: Callable[[str], list[str]] = tokenize) -> LexicalIndex:
        """The index `save` wrote; with `mmap` its score arrays stay on disk (page cache)."""
        index = cls([], tokenizer=tokenizer, variant_weight=variant_weight)
        index.size = json.loads((folder / SIZE_FILE).read_text())["size"]
        if (folder / "params.index.json").exists():
            index._bm25 = bm25s.BM25.load(str(folder), mmap=mmap)
            index._vocab = {t: i for t, i in index._bm25.vocab_dict.items() if t}
        return index

    def query_terms(self, query: str) -> tuple[list[int], list[int]]:
        """Vocabulary ids of the query's tokens, and of their known غ/ج spelling variants."""
        tokens, variants = query_tokens(query, self.tokenizer)
        return ([self._vocab[t] for t in tokens if t in self._vocab],
                [self._vocab[v] for v in variants if v in self._vocab]
                if self.variant_weight > 0 else [])

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if self._bm25 is None or k <= 0:
            return []
        direct, variants = self.query_terms(query)
        if not direct and not variants:
            return []
        scores = np.zeros(self.size, dtype=np.float32)
        if direct:
            scores += self._bm25.get_scores_from_ids(direct)
        if variants:
            scores += self.variant_weight * self._bm25.get_scores_from_ids(variants)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

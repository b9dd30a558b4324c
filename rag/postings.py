"""BM25 over index segments: each segment's postings on disk, scored with the whole index's
statistics.

A segment stores, for each term, which of its chunks hold it and how often, and each chunk's
length (numpy arrays, memory-mapped by readers). A search first sums the segments' document
frequencies, chunk counts and lengths, so that a term's IDF and the average chunk length are
those of the whole index: a segment of one article and a segment of a million chunks give
comparable scores. The formula is the one rag.lexical gets from bm25s ("lucene": idf =
ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1 (1 - b + b dl / avgdl))), so an index of
one segment ranks as before. Deleted chunks still count in the statistics until a merge
drops them (as in Lucene); their rows are masked out of the results.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .arabic import tokenize
from .lexical import query_tokens

TERM_BYTES = 64  # terms are stored as UTF-8 cut to this length (a longer "word" is noise)
FILES = ("terms.npy", "indptr.npy", "rows.npy", "tfs.npy", "lengths.npy", "postings.json")


def term_key(term: str) -> bytes:
    return term.encode("utf-8")[:TERM_BYTES]


class Postings:
    """One segment's inverted index: sorted terms, and per term its rows and frequencies."""

    def __init__(self, terms: np.ndarray, indptr: np.ndarray, rows: np.ndarray,
                 tfs: np.ndarray, lengths: np.ndarray) -> None:
        self.terms = terms  # sorted, dtype S<=TERM_BYTES
        self.indptr = indptr  # term t's postings are rows[indptr[t]:indptr[t + 1]]
        self.rows = rows
        self.tfs = tfs
        self.lengths = lengths  # tokens per chunk
        self.total_length = int(lengths.sum(dtype=np.int64))

    @property
    def size(self) -> int:
        return len(self.lengths)

    @classmethod
    def build(cls, texts: Iterable[str], tokenizer: Callable[[str], list[str]] = tokenize
              ) -> Postings:
        vocab: dict[bytes, int] = {}
        ids = array("i")  # a term id per token, compact (60 M tokens at 1 M chunks)
        lengths = array("i")
        for text in texts:
            tokens = tokenizer(text)
            lengths.append(len(tokens))
            ids.extend(vocab.setdefault(term_key(t), len(vocab)) for t in tokens)
        n = len(lengths)
        lengths_np = np.frombuffer(lengths, dtype=np.int32).copy() if n else \
            np.zeros(0, np.int32)
        if not vocab:
            return cls(np.zeros(0, "S1"), np.zeros(1, np.int64), np.zeros(0, np.int32),
                       np.zeros(0, np.float32), lengths_np)
        terms = np.array(list(vocab), dtype=f"S{max(len(k) for k in vocab)}")
        order = np.argsort(terms, kind="stable")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))  # old id -> position in sorted order
        row_of_token = np.repeat(np.arange(n, dtype=np.int64), lengths_np)
        pairs = rank[np.frombuffer(ids, dtype=np.int32)] * n + row_of_token
        del row_of_token
        pairs, counts = np.unique(pairs, return_counts=True)
        term_of_pair = pairs // n
        indptr = np.searchsorted(term_of_pair, np.arange(len(terms) + 1)).astype(np.int64)
        return cls(terms[order], indptr, (pairs % n).astype(np.int32),
                   counts.astype(np.float32), lengths_np)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, values in (("terms", self.terms), ("indptr", self.indptr),
                             ("rows", self.rows), ("tfs", self.tfs),
                             ("lengths", self.lengths)):
            np.save(folder / f"{name}.npy", values)
        (folder / "postings.json").write_text(json.dumps({"size": self.size}))

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> Postings:
        mode = "r" if mmap else None
        postings = cls(*(np.load(folder / f"{name}.npy", mmap_mode=mode)
                         for name in ("terms", "indptr", "rows", "tfs", "lengths")))
        if json.loads((folder / "postings.json").read_text())["size"] != postings.size:
            raise ValueError("postings.json and lengths.npy disagree")
        return postings

    def term_id(self, key: bytes) -> int:
        """The term's position, or -1 if no chunk of this segment holds it."""
        if not len(self.terms):
            return -1
        i = int(np.searchsorted(self.terms, key))
        return i if i < len(self.terms) and self.terms[i] == key else -1

    def df(self, term: int) -> int:
        return int(self.indptr[term + 1] - self.indptr[term]) if term >= 0 else 0


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    variant_weight: float = 0.5  # another spelling of a foreign "g" (rag.lexical)


def search_segments(segments: Sequence[tuple[Postings, np.ndarray | None]], query: str, n: int,
                    params: BM25Params = BM25Params()) -> list[list[tuple[int, float]]]:
    """Each segment's top `n` (local row, score), scored with statistics of all of them.
    `segments` pairs each segment's postings with a mask of its deleted rows (or None)."""
    tokens, variants = query_tokens(query)
    weighted = [(term_key(t), 1.0) for t in tokens]
    if params.variant_weight > 0:
        weighted += [(term_key(v), params.variant_weight) for v in variants]
    found = [[(p.term_id(key), weight) for key, weight in weighted] for p, _ in segments]
    total = sum(p.size for p, _ in segments)
    if n <= 0 or not weighted or total == 0:
        return [[] for _ in segments]
    length = sum(p.total_length for p, _ in segments)
    avgdl = length / total if length else 1.0
    df: dict[bytes, int] = {}
    for (p, _), ids in zip(segments, found, strict=True):
        terms = {key: term for (key, _), (term, _) in zip(weighted, ids, strict=True)}
        for key, term in terms.items():  # each term once, however often the query has it
            df[key] = df.get(key, 0) + p.df(term)
    idf = {key: float(np.log(1 + (total - d + 0.5) / (d + 0.5))) for key, d in df.items()}
    results = []
    for (p, deleted), ids in zip(segments, found, strict=True):
        if all(term < 0 for term, _ in ids):
            results.append([])
            continue
        scores = np.zeros(p.size, dtype=np.float32)
        for (key, _), (term, weight) in zip(weighted, ids, strict=True):
            if term < 0:
                continue
            start, end = int(p.indptr[term]), int(p.indptr[term + 1])
            rows = np.asarray(p.rows[start:end])
            tf = np.asarray(p.tfs[start:end])
            norm = params.k1 * (1 - params.b + params.b * p.lengths[rows] / avgdl)
            scores[rows] += (weight * idf[key] * tf / (tf + norm)).astype(np.float32)
        if deleted is not None:
            scores[deleted] = 0
        k = min(n, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        results.append([(int(i), float(scores[i])) for i in top if scores[i] > 0])
    return results

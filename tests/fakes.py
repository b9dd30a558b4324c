"""Stand-ins for the models in fast unit tests."""

from __future__ import annotations

import hashlib

import numpy as np

from rag.arabic import tokenize


class FakeEmbedder:
    """Deterministic hashed bag of words with the Embedder interface: fast, no model.
    Records what it embedded, passages and queries apart."""

    dim = 64
    max_tokens = 512

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.queries: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text):
            v[int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries += texts
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

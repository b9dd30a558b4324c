"""Stand-ins for the models in fast unit tests."""

from __future__ import annotations

import hashlib

import numpy as np

from rag.arabic import tokenize
from rag.chat_model import Generation


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

    def embed_tokens(self, texts: list[str]) -> list[np.ndarray]:
        return [np.array([self._vector(t) for t in tokenize(text)],
                         dtype=np.float32).reshape(-1, self.dim) for text in texts]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class ScriptedLLM:
    """Stands in for the model in unit tests of the stream: says `reply` in pieces of a few
    characters, or with `reply=None` fails the test if asked to generate at all."""

    name = "scripted"
    n_ctx = 2048

    def __init__(self, reply: str | None = None, piece: int = 3) -> None:
        self.reply = reply
        self.piece = piece
        self.messages: list[dict[str, str]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(self, messages, max_tokens, **kwargs) -> str:
        return "".join(self.stream(messages, max_tokens, **kwargs))

    def stream(self, messages, max_tokens, temperature=0.0, timeout_s=120.0, cancel=None,
               info=None, seed=None):
        assert self.reply is not None, "the model was asked to answer"
        self.messages = messages
        info = info if info is not None else Generation()
        reply = self.reply(messages) if callable(self.reply) else self.reply
        for i in range(0, len(reply), self.piece):
            info.first_token_s = info.first_token_s or 0.001
            info.completion_tokens += 1
            info.text += reply[i:i + self.piece]
            yield reply[i:i + self.piece]
        info.stopped, info.total_s = "stop", 0.002

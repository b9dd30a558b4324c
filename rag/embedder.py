"""Text to vectors with a sentence-transformers model (by default the converted e5-small)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading

import numpy as np

from . import models
from .config import Settings
from .errors import ConfigError, ModelError

log = logging.getLogger(__name__)


class Embedder:
    """Embeds queries and passages; applies the model's own prompts ("query: ", "passage: ")."""

    def __init__(self, model_path: str, batch_size: int = 16, precision: str = "auto") -> None:
        if os.path.isdir(model_path):
            # A local folder needs no hub; without this, transformers may still try to reach it.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # slow import: only when used

        try:
            self.model = SentenceTransformer(model_path, device="cpu")
        except Exception as e:
            raise ModelError(f"Cannot load the embedding model {model_path!r}: {e}. "
                             f"Run: {models.FIX_COMMAND}") from e
        self.model_id = model_path
        self.batch_size = batch_size
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self.tokenizer = self.model.tokenizer
        self.precision = _resolve_precision(precision)
        self._lock = threading.Lock()  # torch modules are not safe to call from many threads

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(models.embedding_path(settings), precision=settings.embedding_precision)

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for `text`, without special tokens or the prompt."""
        # The chunker measures whole paragraphs, longer than the model's window on purpose:
        # verbose=False silences the tokenizer's "sequence is too long" warning.
        ids = self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        return len(ids)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, self._autocast():
            vectors = self.model.encode_document(texts, batch_size=self.batch_size,
                                                 normalize_embeddings=True,
                                                 convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, self._autocast():
            vectors = self.model.encode_query(texts, batch_size=self.batch_size,
                                              normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_tokens(self, texts: list[str]) -> list[np.ndarray]:
        """Per text, the unit-length contextual vectors of its own tokens (read as passages;
        without the prompt and the special tokens), for token-level alignment."""
        if not texts:
            return []
        with self._lock, self._autocast():
            outputs = self.model.encode_document(texts, batch_size=self.batch_size,
                                                 output_value="token_embeddings",
                                                 convert_to_numpy=False)
        prompt = len(self.tokenizer(self.model.prompts.get("document", ""),
                                    add_special_tokens=False)["input_ids"])
        vectors = []
        for text, out in zip(texts, outputs, strict=True):
            rows = out.float().cpu().numpy()
            n = min(self.count_tokens(text), len(rows) - 2 - prompt)  # <s> prompt text </s>
            own = rows[len(rows) - 1 - n:len(rows) - 1] if n > 0 else rows[:0]
            norms = np.linalg.norm(own, axis=1, keepdims=True)
            vectors.append((own / np.where(norms > 0, norms, 1.0)).astype(np.float32))
        return vectors

    def _autocast(self) -> contextlib.AbstractContextManager:
        import torch

        if self.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def _resolve_precision(precision: str) -> str:
    if precision not in ("auto", "bf16", "fp32"):
        raise ConfigError(f"embedding_precision must be auto, bf16 or fp32, not {precision!r}.")
    if precision != "auto":
        return precision
    import torch

    # Without native bfloat16 instructions, autocast emulates it and is slower than float32.
    # The check is torch's private one: a torch without it gets the safe choice.
    native = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    try:
        return "bf16" if native() else "fp32"
    except RuntimeError:
        return "fp32"

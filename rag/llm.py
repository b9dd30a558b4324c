"""The answer model: a local GGUF through llama-cpp-python, loaded once and shared."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from . import models
from .chat_model import ChatModel, Generation, follow_choices
from .config import Settings
from .errors import ModelError
from .remote_llm import RemoteLLM

log = logging.getLogger(__name__)


class LocalLLM:
    """Chat completion with the GGUF's own chat template, streamed token by token.

    llama.cpp keeps the KV cache of the previous prompt and re-evaluates only what differs,
    so prompts that start with the same system message skip re-reading it. A RAM cache of
    recent states (about 10 MB each) keeps that true when Arabic and English questions
    alternate: each language's system prompt is read once, not after every switch.
    """

    def __init__(self, model_path: str, n_ctx: int = 2048, n_threads: int = 0, seed: int = 0,
                 name: str = "", prompt_cache_mb: int = 64) -> None:
        import os

        from llama_cpp import Llama, LlamaRAMCache

        self.name = name or os.path.basename(model_path)
        self.n_ctx = n_ctx
        try:
            if model_path.startswith("hf:"):  # users with a network: hf:<repo>/<file.gguf>
                repo, _, filename = model_path[3:].rpartition("/")
                self.llama = Llama.from_pretrained(repo, filename, n_ctx=n_ctx, seed=seed,
                                                   n_threads=n_threads or None, verbose=False)
            else:
                self.llama = Llama(model_path=model_path, n_ctx=n_ctx, seed=seed,
                                   n_threads=n_threads or None, verbose=False)
        except Exception as e:
            raise ModelError(f"Cannot load the language model {model_path}: {e}. "
                             f"Check it with: rag models") from e
        if prompt_cache_mb > 0:
            self.llama.set_cache(LlamaRAMCache(capacity_bytes=prompt_cache_mb << 20))
        self.seed = seed
        self._lock = threading.Lock()  # one llama.cpp context serves one request at a time

    @classmethod
    def from_settings(cls, settings: Settings, name: str | None = None) -> LocalLLM:
        """The in-process model named by `name`, by default the configured one."""
        name = name or settings.llm
        path = name if name.startswith("hf:") else str(models.llm_path(settings, name))
        return cls(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads, seed=settings.seed,
                   name=name, prompt_cache_mb=settings.prompt_cache_mb)

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[dict[str, str]], max_tokens: int, temperature: float = 0.0,
               timeout_s: float = 120.0, cancel: threading.Event | None = None,
               info: Generation | None = None, seed: int | None = None) -> Iterator[str]:
        """Yield the answer's text pieces. `info` is filled with token counts and timings."""
        info = info if info is not None else Generation()
        started = time.perf_counter()
        with self._lock:
            waited = time.perf_counter() - started
            chunks = self.llama.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature,
                seed=self.seed if seed is None else seed, stream=True)
            try:
                yield from follow_choices((chunk["choices"][0] for chunk in chunks), info,
                                          started, timeout_s, cancel)
            finally:
                chunks.close()  # stops llama.cpp from generating the rest
                info.total_s = time.perf_counter() - started
                info.timings["queue_wait"] = waited

    def complete(self, messages: list[dict[str, str]], max_tokens: int, **kwargs) -> str:
        return "".join(self.stream(messages, max_tokens, **kwargs))


def load_chat_model(settings: Settings) -> ChatModel:
    """The configured answer model: a server's when `llm_endpoint` is set, else in-process."""
    if settings.llm_endpoint:
        return RemoteLLM.from_settings(settings)
    return LocalLLM.from_settings(settings)

"""What the pipeline needs from an answer model, whether it runs in-process or on a server.

`rag.llm.LocalLLM` (a GGUF through llama-cpp-python) and `rag.remote_llm.RemoteLLM` (an
OpenAI-compatible server) both fit; `rag.llm.load_chat_model` picks one from the settings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Generation:
    """What one streamed completion did, filled in as it runs."""

    completion_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0
    stopped: str = ""  # "stop", "length", "timeout", "cancelled" (or the pipeline's "runaway")
    text: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class ChatModel(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: list[dict[str, str]], max_tokens: int, temperature: float = 0.0,
               timeout_s: float = 120.0, cancel: threading.Event | None = None,
               info: Generation | None = None, seed: int | None = None) -> Iterator[str]:
        """Yield the answer's text pieces; `info` is filled with token counts and timings.
        `seed` (default: the model's own) makes a sampled answer (temperature > 0) repeatable."""
        ...

    def complete(self, messages: list[dict[str, str]], max_tokens: int, **kwargs: Any) -> str: ...


def follow_choices(choices: Iterable[dict[str, Any]], info: Generation, started: float,
                   timeout_s: float, cancel: threading.Event | None) -> Iterator[str]:
    """Yield the text of OpenAI-style streamed choices, keeping `info` up to date; returns
    early on cancel or timeout (the caller then closes the stream, which stops generation)."""
    for choice in choices:
        piece = (choice.get("delta") or {}).get("content") or ""
        if piece:
            if info.first_token_s is None:
                info.first_token_s = time.perf_counter() - started
            info.completion_tokens += 1  # one streamed piece is one token on llama.cpp
            info.text += piece
            yield piece
        if choice.get("finish_reason"):
            info.stopped = choice["finish_reason"]
        if cancel is not None and cancel.is_set():
            info.stopped = "cancelled"
            return
        if time.perf_counter() - started > timeout_s:
            info.stopped = "timeout"
            return

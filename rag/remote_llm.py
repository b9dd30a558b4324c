"""The answer model behind an OpenAI-compatible server (llama-cpp-python's server, vLLM,
llama.cpp's llama-server, ...), streamed over HTTP with the standard library only.

Selected when `settings.llm_endpoint` is set, e.g. ``http://127.0.0.1:8080/v1``:

    python -m llama_cpp.server --model ~/.cache/rag/models/<model>.gguf --port 8080
    RAG_LLM_ENDPOINT=http://127.0.0.1:8080/v1 rag ask "Who is John Kirby?"

A `rag.chat_model.ChatModel`, like `rag.llm.LocalLLM`: `stream`, `complete`, `count_tokens`. The server
applies the model's chat template and keeps its own KV cache; several answer workers can share
one server (see docs/scaling.md). Token counts come from llama-cpp-python's
``/extras/tokenize/count`` when the server has it, otherwise they are estimated on the safe
side (more tokens than the text has), which only makes the prompt's evidence budget stricter.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from .chat_model import Generation, follow_choices
from .config import Settings
from .errors import ModelError

log = logging.getLogger(__name__)

BYTES_PER_TOKEN_ESTIMATE = 3  # UTF-8 bytes; real BPE tokens average 4+ (English), 5+ (Arabic)
CONNECT_TIMEOUT_S = 10.0


class ServerUnreachable(ModelError):
    """No connection to the server at all (as opposed to an error it answered)."""


class RemoteLLM:
    """Chat completions from an OpenAI-compatible `/v1/chat/completions`, streamed (SSE)."""

    def __init__(self, endpoint: str, model: str = "", n_ctx: int = 2048, seed: int = 0,
                 api_key: str = "", name: str = "") -> None:
        endpoint = endpoint.strip().rstrip("/")
        if not endpoint.startswith(("http://", "https://")):
            raise ModelError(f"llm_endpoint must be an http:// or https:// URL such as "
                             f"http://127.0.0.1:8080/v1, got {endpoint!r}.")
        self.endpoint = endpoint
        self.root = endpoint.removesuffix("/v1")  # where llama-cpp-python keeps /extras
        self.model = model  # empty: the first model the server lists
        self.n_ctx = n_ctx
        self.seed = seed
        self.api_key = api_key
        self.name = name or endpoint
        self._tokenize: bool | None = None  # whether /extras/tokenize/count works
        self._counts: OrderedDict[str, int] = OrderedDict()  # the system prompt, mostly
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteLLM:
        return cls(settings.llm_endpoint, n_ctx=settings.n_ctx, seed=settings.seed,
                   name=f"{settings.llm_endpoint}")

    # ------------------------------------------------------------------ HTTP

    def _request(self, url: str, body: dict[str, Any] | None, timeout: float):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers,
                                         method="POST" if data is not None else "GET")
        try:
            return urllib.request.urlopen(request, timeout=timeout)  # http(s) only: checked
        except urllib.error.HTTPError as e:
            raise ModelError(f"The language model server at {self.endpoint} answered "
                             f"{e.code} {e.reason}: {_error_text(e)}") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, TimeoutError):
                raise ModelError(f"The language model server at {self.endpoint} did not "
                                 f"answer within {timeout:.0f} s.") from e
            raise ServerUnreachable(f"Cannot reach the language model server at {self.endpoint} "
                             f"({reason}). Start it (e.g. python -m llama_cpp.server --model "
                             f"<file.gguf> --port 8080), or set llm_endpoint to \"\" to use "
                             f"the in-process model.") from e

    def served_model(self) -> str:
        """The model name requests carry: the configured one, else the server's first."""
        if not self.model:
            with self._request(f"{self.endpoint}/models", None, CONNECT_TIMEOUT_S) as response:
                listed = json.loads(response.read().decode("utf-8")).get("data") or []
            self.model = str(listed[0]["id"]) if listed else "default"
            log.info("remote LLM %s serves %s", self.endpoint, self.model)
        return self.model

    # ------------------------------------------------------------------ the ChatModel interface

    def count_tokens(self, text: str) -> int:
        if text in self._counts:
            return self._counts[text]
        count = None
        if self._tokenize is not False:
            try:
                with self._request(f"{self.root}/extras/tokenize/count",
                                   {"input": text, "model": self.served_model()},
                                   CONNECT_TIMEOUT_S) as response:
                    count = int(json.loads(response.read().decode("utf-8"))["count"])
                self._tokenize = True
            except ServerUnreachable:
                raise
            except (ModelError, ValueError, KeyError, TypeError) as e:
                if self._tokenize:  # it worked before: this is a real error
                    raise
                log.info("%s has no tokenize endpoint (%s); estimating token counts",
                         self.endpoint, e)
                self._tokenize = False
        if count is None:
            count = math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN_ESTIMATE)
        with self._lock:
            self._counts[text] = count
            while len(self._counts) > 256:
                self._counts.popitem(last=False)
        return count

    def stream(self, messages: list[dict[str, str]], max_tokens: int, temperature: float = 0.0,
               timeout_s: float = 120.0, cancel: threading.Event | None = None,
               info: Generation | None = None, seed: int | None = None) -> Iterator[str]:
        """Yield the answer's text pieces. `info` is filled with token counts and timings."""
        info = info if info is not None else Generation()
        started = time.perf_counter()
        body = {"model": self.served_model(), "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature, "stream": True,
                "seed": self.seed if seed is None else seed}
        # The read timeout bounds the wait for each line; the whole answer is bounded below.
        response = self._request(f"{self.endpoint}/chat/completions", body,
                                 max(CONNECT_TIMEOUT_S, timeout_s))
        info.timings["queue_wait"] = 0.0  # the server queues; we cannot see it
        usage: Any = None

        def choices() -> Iterator[dict[str, Any]]:
            nonlocal usage
            for event in _sse_events(response, self.endpoint):
                usage = event.get("usage") or usage
                if event.get("error"):
                    raise ModelError(f"The language model server at {self.endpoint} failed "
                                     f"while answering: {_message(event['error'])}")
                yield (event.get("choices") or [{}])[0]

        try:
            yield from follow_choices(choices(), info, started, timeout_s, cancel)
            if isinstance(usage, dict) and usage.get("completion_tokens"):
                info.completion_tokens = int(usage["completion_tokens"])
        except TimeoutError:
            if not info.text:
                raise ModelError(f"The language model server at {self.endpoint} did not answer "
                                 f"within {timeout_s:.0f} s.") from None
            info.stopped = "timeout"
        finally:
            response.close()  # the server stops generating when the connection drops
            info.total_s = time.perf_counter() - started

    def complete(self, messages: list[dict[str, str]], max_tokens: int, **kwargs) -> str:
        return "".join(self.stream(messages, max_tokens, **kwargs))


def _sse_events(response, endpoint: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a `text/event-stream` body, up to `data: [DONE]`."""
    data: list[str] = []
    for raw in response:  # a read that waits longer than the timeout raises TimeoutError
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
            continue
        if line or not data:  # comments, "event:" and "id:" lines; blank keep-alives
            continue
        payload, data = "\n".join(data), []
        if payload == "[DONE]":
            return
        yield _parse(payload, endpoint)
    if data and "\n".join(data) != "[DONE]":
        yield _parse("\n".join(data), endpoint)


def _parse(payload: str, endpoint: str) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError as e:
        raise ModelError(f"The language model server at {endpoint} sent something that is "
                         f"not a chat completion stream: {payload[:200]!r}") from e
    if not isinstance(event, dict):
        raise ModelError(f"The language model server at {endpoint} sent something that is "
                         f"not a chat completion stream: {payload[:200]!r}")
    return event


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read().decode("utf-8", "replace")
    except OSError:
        return ""
    try:
        return _message(json.loads(body))
    except ValueError:
        return body[:300]


def _message(payload: Any) -> str:
    """The human part of an OpenAI-style error ({"error": {"message": ...}} or variants)."""
    if isinstance(payload, dict):
        for key in ("error", "message", "detail"):
            if key in payload:
                return _message(payload[key])
        return json.dumps(payload)[:300]
    if isinstance(payload, list):
        return "; ".join(_message(p) for p in payload[:3])
    return str(payload)[:300]

"""The answer model behind an OpenAI-compatible server (rag.remote_llm.RemoteLLM).

Fast tests use small stdlib HTTP servers on loopback (an error answer, a stream without a
tokenize endpoint, nothing listening). The slow test starts llama-cpp-python's own server
(`python -m llama_cpp.server`, needs the `server` extra) with the small model and runs the
real Assistant against it, with `llm_endpoint` set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from servers import free_port, stop, wait_until_serving

from rag import models
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import ModelError, RagError
from rag.evaluate import matches
from rag.llm import load_chat_model
from rag.remote_llm import RemoteLLM
from rag.types import Answer

SMALL_LLM = "qwen2.5-coder-0.5b-instruct-q4_k_m"
SEVENTIETH = {"question": "في أي ذكرى لنهاية الحرب الكورية زار شويغو كوريا الشمالية؟",
              "answers": [["السبعين"], ["70"]]}
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


class FakeServer:
    """A loopback HTTP server whose handler is given as (method, path, body) -> response."""

    def __init__(self, respond) -> None:
        outer = self
        self.requests: list[tuple[str, str, dict]] = []

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append((method, self.path, body))
                status, content_type, payload = respond(method, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sse(*events: dict) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) \
        + b"data: [DONE]\n\n"


def test_unreachable_server_is_a_clear_model_error():
    port = free_port()  # nothing listens there
    settings = Settings().with_values({"llm_endpoint": f"http://127.0.0.1:{port}/v1"})
    llm = load_chat_model(settings)
    assert isinstance(llm, RemoteLLM)
    with pytest.raises(ModelError) as caught:
        list(llm.stream(MESSAGES, 10))
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "Cannot reach" in message
    assert "llm_endpoint" in message  # says how to go back to the in-process model
    with pytest.raises(RagError):
        llm.count_tokens("hello")


def test_bad_endpoint_setting_is_refused():
    with pytest.raises(ModelError, match="http://"):
        RemoteLLM("127.0.0.1:8080/v1")


def test_server_error_answer_is_shown():
    def respond(method, path, body):
        if path.endswith("/models"):
            return 200, "application/json", json.dumps({"data": [{"id": "m"}]}).encode()
        return 500, "application/json", json.dumps(
            {"error": {"message": "model failed to load", "type": "server_error"}}).encode()

    server = FakeServer(respond)
    try:
        with pytest.raises(ModelError, match="answered 500.*model failed to load"):
            list(RemoteLLM(server.url).stream(MESSAGES, 10))
    finally:
        server.close()


def test_streams_pieces_and_estimates_tokens_without_a_tokenize_endpoint():
    chunks = [{"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]},
              {"choices": [{"delta": {"content": "Kim visited "}, "finish_reason": None}]},
              {"choices": [{"delta": {"content": "Moscow [2]."}, "finish_reason": None}]},
              {"choices": [{"delta": {}, "finish_reason": "stop"}]}]

    def respond(method, path, body):
        if path.endswith("/models"):
            return 200, "application/json", json.dumps({"data": [{"id": "served"}]}).encode()
        if path.endswith("/chat/completions"):
            return 200, "text/event-stream", sse(*chunks)
        return 404, "application/json", b'{"detail": "Not Found"}'

    server = FakeServer(respond)
    try:
        llm = RemoteLLM(server.url, seed=7)
        from rag.chat_model import Generation

        info = Generation()
        pieces = list(llm.stream(MESSAGES, 50, temperature=0.0, info=info))
        assert pieces == ["Kim visited ", "Moscow [2]."]
        assert info.text == "Kim visited Moscow [2]." and info.stopped == "stop"
        assert info.completion_tokens == 2 and info.first_token_s is not None
        sent = next(b for m, p, b in server.requests if p.endswith("/chat/completions"))
        assert sent["model"] == "served" and sent["stream"] is True and sent["seed"] == 7
        assert sent["messages"] == MESSAGES and sent["max_tokens"] == 50
        # No /extras/tokenize/count here: a safe over-estimate (3 UTF-8 bytes a token).
        assert llm.count_tokens("مرحبا بكم") == 6 and llm.count_tokens("abcdef") == 2
    finally:
        server.close()


# ---------------------------------------------------------------------- the real server


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="needs the server extra: pip install -e '.[server]'")
    model = models.llm_path(Settings.load(), SMALL_LLM)
    if not model.is_file():
        pytest.skip(f"{model} is missing; run: rag models fetch")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
             "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--seed", "0"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_serving(process, f"{url}/models", log_path, timeout_s=120)
        yield url
    finally:
        stop(process)


@pytest.mark.slow
def test_assistant_answers_through_the_server_with_citations(llama_server, seed_settings,
                                                              embedder):
    settings = seed_settings.with_values({"llm_endpoint": llama_server})
    assistant = Assistant(settings, embedder=embedder)
    assert isinstance(assistant.llm, RemoteLLM)
    pieces, answer = [], None
    # A question the small model answers (greedy, seed 0) from the seed articles.
    for item in assistant.stream(SEVENTIETH["question"]):
        if isinstance(item, Answer):
            answer = item
        else:
            pieces.append(item)
    assert answer is not None and not answer.refused, answer
    assert len(pieces) > 1  # streamed, not one block
    assert "".join(pieces).strip() and matches(answer.text, SEVENTIETH["answers"]), answer.text
    assert answer.citations and any(c.supported for c in answer.citations)
    assert answer.timings["first_token"] < answer.timings["total"]
    # the server's own tokenizer counted the prompt (llama-cpp-python's /extras endpoint)
    assert assistant.llm._tokenize is True
    assert 0 < answer.timings["prompt_tokens"] < settings.n_ctx

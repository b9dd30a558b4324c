"""The web app: its HTML helpers, and the real app served and called through `gradio_client`.

The server tests start `python app.py` once (on a free port, with a temporary index built
from seeds/ and the small LLM) and share it with tests/test_browser.py through `app_server()`.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import app
from rag.config import Settings
from rag.errors import IndexStoreError, QueryError
from rag.ingest import CHUNKER_VERSION
from rag.types import Answer, Citation, FileOutcome, IngestReport
from rag.uploads import safe_filename
from rag.web.layout import ASSETS
from rag.web.render import highlighted, locate, passage_window, render_answer_text
from rag.web.server import is_loopback, parse_auth
from rag.web.service import Service
from rag.web.views import Views
from rag.web.webapp import WebApp, new_session

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SMALL_LLM = "qwen2.5-coder-0.5b-instruct-q4_k_m"
UPLOAD_LIMIT_MB = 1  # small, so that the browser test can try an oversized upload quickly


# ====================================================================== helpers, no server


@pytest.mark.parametrize(("given", "expected"), [
    ("article.txt", "article.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.HTML", "evil.html"),
    ("/abs/path/to/x.md", "x.md"),
    (".hidden.txt", "hidden.txt"),
    ("..", "upload"),
    ("", "upload"),
    ("a b;rm -rf ~;.txt", "a b_rm -rf.txt"),
    ("مقال عن كوريا.txt", "مقال عن كوريا.txt"),
    ("x\x00y\n.pdf", "x_y.pdf"),
])
def test_safe_filename(given, expected):
    assert safe_filename(given) == expected


def test_safe_filename_stays_short_and_keeps_the_suffix():
    name = safe_filename("a" * 500 + ".html")
    assert len(name) <= 120 and name.endswith(".html")


def test_answer_text_is_escaped_and_markers_link_to_sources():
    citations = [{"number": 1, "title": "<b>T</b>", "quote": "q"}]
    out = render_answer_text(
        'Hi <script>alert(1)</script> ![x](http://evil.example/i.png) <img src=x> [1] [7]',
        citations, link=True)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x&gt;" in out
    assert "![x](http://evil.example/i.png)" in out  # markdown stays text: no image loads
    assert '<a class="cite" href="#src-1"' in out and "&lt;b&gt;T&lt;/b&gt;" in out
    assert '<span class="cite-dead">7</span>' in out  # a number with no citation: no link
    older = render_answer_text("x [1]", citations, link=False)
    assert "href" not in older


def test_answer_lines_and_arabic_marker_lists():
    # Each line its own paragraph with its own direction: an unverified English answer
    # quotes Arabic passages, one a line.
    out = render_answer_text("أ [1، 2]\n\nب\nج", [{"number": 1}, {"number": 2}], True)
    assert out.count('<p dir="auto">') == 3 and "<br>" not in out
    assert 'href="#src-1"' in out and 'href="#src-2"' in out


def test_passage_window_and_highlight():
    text = "First paragraph.\nSecond <b> one. The cited sentence here. After it.\nThird."
    start = text.index("The cited")
    end = start + len("The cited sentence here.")
    left, right = passage_window(text, start, end)
    assert text[left:right] == "Second <b> one. The cited sentence here. After it."
    html = highlighted(text, left, right, start, end, mark_id="m1")
    assert '<mark class="hl" id="m1">The cited sentence here.</mark>' in html
    assert "&lt;b&gt;" in html
    long = "word " * 400 + "THE QUOTE." + " word" * 400
    s = long.index("THE QUOTE.")
    left, right = passage_window(long, s, s + 10, context=100)
    assert right - left < 260
    assert highlighted(long, left, right, s, s + 10).startswith("… ")


def test_locate_falls_back_to_finding_the_quote():
    text = "abc The quote. def"
    assert locate(text, 4, 14, "The quote.") == (4, 14)
    assert locate(text, 0, 3, "The quote.") == (4, 14)  # stale offsets
    assert locate(text, 0, 3, "missing") is None


def test_source_entry_escapes_article_text():
    doc = type("Doc", (), {"text": "<script>x</script> Evil. The fact.", "title": "<i>T</i>",
                           "language": "en", "source_file": "f.txt"})()
    c = {"number": 2, "doc_id": "d", "title": "<i>T</i>", "date": "", "source": "",
         "quote": "The fact.", "start": 26, "end": 35, "supported": True}
    out = Views.source_entry(c, doc, "en")
    assert "<script>" not in out and "<i>" not in out
    assert 'id="src-2"' in out and 'id="art-2-mark"' in out


def test_loopback_and_auth_parsing():
    assert is_loopback("127.0.0.1") and is_loopback("localhost")
    assert is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert parse_auth("alice:s3:cret") == [("alice", "s3:cret")]
    assert parse_auth("a:1,b:2") == [("a", "1"), ("b", "2")]
    assert parse_auth(None) is None
    with pytest.raises(ValueError):
        parse_auth("nopassword")


def test_refuses_a_public_address_without_the_flag(capsys):
    assert app.main(["--host", "0.0.0.0", "--port", "1"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


# ====================================================================== the app's handlers


class FakeAssistant:
    """Stands in for `rag.Assistant`: a language model that loads when told to."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.llm_gate = threading.Event()
        self.llm_loaded = False
        self.fail = fail
        self.histories: list[list] = []
        self.ingested: list[list[Path]] = []

    @property
    def embedder(self):
        return object()

    @property
    def llm(self):
        assert self.llm_gate.wait(10)
        self.llm_loaded = True
        return object()

    @property
    def index(self):
        raise IndexStoreError("no index")

    def search(self, query, k=None):
        return []

    def stream(self, question, history=(), cancel=None):
        self.histories.append(list(history))
        if self.fail:
            raise self.fail
        yield "Kirby is <b>a spokesman</b> "
        yield "[1]."
        citation = Citation(1, "d1", "Title <i>", "2023-07-26", "Reuters", "quote", 0, 5, 0.9,
                            True)
        yield Answer(question, "Kirby is <b>a spokesman</b> [1].", "en", [citation],
                     timings={"retrieval": 0.1, "first_token": 0.5, "total": 1.0})

    def ingest(self, paths, progress=None, keys=None):
        self.ingested.append([Path(p) for p in paths])
        if progress:
            progress("embedding chunks", 1, 1)
        return IngestReport([FileOutcome(str(p), "added", documents=1, chunks=2)
                             for p in paths], seconds=0.5)

    def remove(self, names):
        return IngestReport([FileOutcome(name, "removed") for name in names])


def make_web(tmp_path, fake, **settings):
    service = Service(Settings(index_dir=tmp_path / "index", **settings), assistant=fake)
    service.start()
    return WebApp(service)


def test_chat_waits_for_the_model_then_streams_an_escaped_cited_answer(tmp_path):
    fake = FakeAssistant()
    web = make_web(tmp_path, fake)
    frames = web.chat("Who is Kirby?", new_session(), "en")
    chat, _, _, box, state, _, _ = next(frames)
    assert "Who is Kirby?" in chat and "pending" in chat and box.value == ""
    chat = next(frames)[0]
    assert "Loading the language model" in chat
    fake.llm_gate.set()
    rest = list(frames)
    chat, sources, _, _, state, status, _ = rest[-1]
    assert "&lt;b&gt;a spokesman&lt;/b&gt;" in chat and "<b>" not in chat
    assert 'href="#src-1"' in chat and "pending" not in chat
    assert 'id="src-1"' in sources and "Title &lt;i&gt;" in sources
    assert "no longer in the index" in sources  # the fake index has no documents
    assert "total 1.0 s" in status
    assert state["turns"][-1]["answer"]["citations"][0]["number"] == 1

    # A follow-up gets the earlier turn as history.
    list(web.chat("And when?", state, "en"))
    assert fake.histories[-1] == [("Who is Kirby?", "Kirby is <b>a spokesman</b>.")]


class SlowAssistant(FakeAssistant):
    """Writes its answer word by word until it is cancelled (or 200 words)."""

    def stream(self, question, history=(), cancel=None):
        self.histories.append(list(history))
        text = ""
        for _ in range(200):
            if cancel is not None and cancel.is_set():
                break
            text += "word "
            time.sleep(0.01)
            yield "word "
        yield Answer(question, text.strip(), "en", timings={"total": 1.0})


def test_a_second_question_while_answering_is_refused_visibly_and_stays_in_the_box(tmp_path):
    fake = SlowAssistant()
    fake.llm_gate.set()
    web = make_web(tmp_path, fake)
    first = web.accept("Who is Kirby?", new_session(), "en")
    state = first[4]
    stream = web.answer(state, "en")
    next(stream)  # the answer is being written
    refused = web.accept("And Shoigu?", state, "en")
    assert "still being written" in refused[2]  # a notice, not silence
    assert refused[3] == gr.skip()  # the box keeps the question
    # The refused question does not start a second copy of the running answer.
    assert list(web.answer(state, "en")) == [(gr.skip(),) * 7]
    web.stop(state)
    frames = list(stream)
    assert frames and "pending" not in frames[-1][0]
    assert frames[-1][6].visible is False  # the Stop button goes away with the answer
    assert "Stopped before the end" in frames[-1][0]
    # Once it is finished, the same question is accepted.
    assert web.accept("And Shoigu?", frames[-1][4], "en")[2] == ""


def test_new_chat_during_an_answer_drops_it_and_the_next_question_goes_through(tmp_path):
    fake = SlowAssistant()
    fake.llm_gate.set()
    web = make_web(tmp_path, fake)
    state = web.accept("Who is Kirby?", new_session(), "en")[4]
    stream = web.answer(state, "en")
    next(stream)
    chat, *_ , fresh, _, stop = web.new_chat("en", state)
    assert "msg" not in chat and fresh["turns"] == [] and stop.visible is False
    # Whatever the old answer still yields changes nothing on the page.
    assert all(frame == (gr.skip(),) * 7 for frame in stream)
    accepted = web.accept("Who is Blinken?", fresh, "en")
    assert accepted[2] == "" and "Who is Blinken?" in accepted[0]
    frames = list(web.answer(accepted[4], "en"))
    assert "word" in frames[-1][0] and frames[-1][4]["turns"][-1]["status"] == "done"


def test_remove_asks_first_and_cancel_removes_nothing(tmp_path):
    fake = FakeAssistant()
    web = make_web(tmp_path, fake)
    question, row = web.confirm_remove(["old.txt"], "ar")
    assert "أتحذف old.txt" in question and row.visible is True
    message, row = web.cancel_remove("ar")
    assert "لم يُحذف شيء" in message and row.visible is False


@pytest.mark.parametrize(("error", "expected"), [
    (QueryError("The question is too long."), "Sorry, that did not work: The question is too"),
    (RuntimeError("boom\nTraceback (most recent call last)"), "Sorry, something went wrong"),
])
def test_chat_errors_are_friendly(tmp_path, error, expected):
    fake = FakeAssistant(fail=error)
    fake.llm_gate.set()
    web = make_web(tmp_path, fake)
    chat = list(web.chat("Who?", new_session(), "en"))[-1][0]
    assert expected in chat and "Traceback" not in chat and "boom" not in chat


def test_empty_question_is_a_notice_in_the_users_language(tmp_path):
    web = make_web(tmp_path, FakeAssistant())
    frames = list(web.chat("   ", new_session(), "ar"))
    assert len(frames) == 1 and "يُرجى كتابة سؤال أولاً" in frames[0][2]


def test_upload_checks_type_size_and_name_before_ingesting(tmp_path):
    fake = FakeAssistant()
    web = make_web(tmp_path, fake, max_upload_mb=1)
    incoming = tmp_path / "incoming"
    (incoming / "..").mkdir(parents=True, exist_ok=True)
    good = incoming / "good .txt"
    incoming.mkdir(exist_ok=True)
    good.write_text("an article", encoding="utf-8")
    big = incoming / "big.txt"
    big.write_bytes(b"x" * (2**20 + 1))
    image = incoming / "image.png"
    image.write_bytes(b"\x89PNG")
    report, *_ = web.upload([str(good), str(big), str(image)], "en", new_session(),
                            progress=lambda *a, **k: None)
    assert "good.txt</b>: added; passages: 2" in report
    assert "the limit is 1 MB per file" in report
    assert ".png files are not supported" in report
    assert [p.name for p in fake.ingested[0]] == ["good.txt"]
    kept = tmp_path / "uploads" / "good.txt"
    assert kept.read_text(encoding="utf-8") == "an article"
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["good.txt"]


def test_remove_deletes_the_kept_copy_and_nothing_outside_the_folder(tmp_path):
    web = make_web(tmp_path, FakeAssistant())
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "old.txt").write_text("x", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("x", encoding="utf-8")
    (uploads / "new.txt").write_text("x", encoding="utf-8")
    report, *_ = web.remove(["old.txt", "../outside.txt"], "en", new_session())
    assert "Removed: old.txt (0 documents, 0 passages), outside.txt (0 documents" in report
    assert not (uploads / "old.txt").exists() and (tmp_path / "outside.txt").exists()
    # Documents are removed by key (their path): an upload's copy goes, a file that was
    # ingested from elsewhere stays where it is.
    web.remove([str(uploads.resolve() / "new.txt"), str(tmp_path / "outside.txt")], "en",
               new_session())
    assert not (uploads / "new.txt").exists() and (tmp_path / "outside.txt").exists()


# ====================================================================== the real app


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    workdir: Path
    log: Path


_server: Server | None = None


def models_missing() -> str:
    model_dir = Settings().model_dir
    if not (model_dir / "multilingual-e5-small" / "rag-source.json").exists():
        return f"the embedding model is not in {model_dir} (run: rag models fetch)"
    if not (model_dir / f"{SMALL_LLM}.gguf").exists():
        return f"the small LLM is not in {model_dir} (run: rag models fetch)"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed_index(index_dir: Path, env: dict[str, str]) -> None:
    """Copy the checkout's index when it holds exactly the seeds, else build one."""
    built = ROOT / "index"
    try:
        version = (built / "CURRENT").read_text().strip()
        manifest = json.loads((built / version / "manifest.json").read_text(encoding="utf-8"))
        seeds = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SEEDS.iterdir()}
        sources = {Path(key).name: digest for key, digest in manifest.get("sources", {}).items()}
        settings = Settings()
        # An index the current code would refuse (an older chunker) is rebuilt, not copied.
        chunker = {"version": CHUNKER_VERSION, "chunk_tokens": settings.chunk_tokens,
                   "overlap_tokens": settings.chunk_overlap_tokens}
        if sources == seeds and manifest.get("chunker") == chunker and \
                manifest.get("embedding_model") == "multilingual-e5-small":
            shutil.copytree(built, index_dir, ignore=shutil.ignore_patterns(".tmp-*"))
            return
    except (OSError, ValueError):
        pass
    subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(SEEDS)], env=env,
                   cwd=ROOT, check=True, capture_output=True, timeout=600)


def app_server() -> Server:
    """The app, started once per test session (shared by the API and browser tests)."""
    global _server
    if _server is not None and _server.process.poll() is None:
        return _server
    _server = start_app()
    return _server


def start_app(cwd: Path = ROOT) -> Server:
    """`app.py` over a temporary index of the seeds (small LLM, 1 MB upload limit), run from
    `cwd`, stopped at the end of the test session."""
    if reason := models_missing():
        pytest.skip(reason)
    workdir = Path(tempfile.mkdtemp(prefix="rag-app-test-"))
    env = {**os.environ, "RAG_INDEX_DIR": str(workdir / "index"), "RAG_LLM": SMALL_LLM,
           "RAG_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(ROOT)}
    env.pop("GRADIO_SERVER_NAME", None)
    env.pop("RAG_AUTH", None)
    env.pop("GRADIO_TEMP_DIR", None)
    _seed_index(workdir / "index", env)
    port = _free_port()
    log = workdir / "app.log"
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                               cwd=cwd, env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"app.py did not come up in time:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    server = Server(url, process, workdir, log)
    atexit.register(_stop, server)
    return server


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    server = app_server()
    return Client(server.url, verbose=False)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_page_comes_up_on_loopback_with_local_fonts_only(client):
    server = app_server()
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        page = response.read().decode("utf-8")
    config = json.loads(urllib.request.urlopen(server.url + "/config", timeout=10).read())
    assert "fonts.googleapis" not in page and "fonts.googleapis" not in json.dumps(config)
    font = ASSETS / "fonts" / "NotoSansArabicUI-Regular.woff2"
    with urllib.request.urlopen(f"{server.url}/gradio_api/file={font.as_posix()}",
                                timeout=10) as response:
        assert response.read()[:4] == b"wOF2"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_search_returns_passages_with_metadata(client):
    passages = client.predict("كيم جونغ أون بوتين", 3, api_name="/search")
    assert isinstance(passages, list) and len(passages) == 3
    first = passages[0]
    for key in ("rank", "score", "doc_id", "source_file", "title", "date", "source", "text",
                "start", "end"):
        assert key in first
    assert [p["rank"] for p in passages] == [1, 2, 3]
    assert any("كيم" in p["text"] for p in passages)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ask_in_arabic_returns_a_structured_cited_answer(client):
    answer = client.predict("لماذا سافر وزير الدفاع الروسي إلى كوريا الشمالية؟", None,
                            api_name="/ask")
    assert isinstance(answer, dict)
    assert answer["language"] == "ar"
    assert answer["text"].strip()
    assert isinstance(answer["citations"], list) and isinstance(answer["refused"], bool)
    assert answer["timings"]["total"] > 0 and "retrieval" in answer["timings"]
    assert "prompt" not in answer
    if not answer["refused"]:
        assert answer["citations"], answer
        c = answer["citations"][0]
        assert {"number", "doc_id", "title", "date", "source", "quote", "start", "end",
                "support", "supported"} <= set(c)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ask_in_english_with_history(client):
    history = [["Who is John Kirby?",
                "John Kirby is the White House National Security Council spokesman [1]."]]
    answer = client.predict("What did he say about North Korea?", history, api_name="/ask")
    assert answer["language"] == "en"
    assert answer["text"].strip()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_api_errors_are_messages_not_tracebacks(client):
    with pytest.raises(Exception) as excinfo:
        client.predict("   ", None, api_name="/ask")
    message = str(excinfo.value)
    assert "empty" in message and "Traceback" not in message
    with pytest.raises(Exception) as excinfo:
        client.predict("x" * 5000, 5, api_name="/search")
    assert "too long" in str(excinfo.value)
    # Nor in the server's console: a user's mistake is not a crash.
    assert "Traceback" not in app_server().log.read_text(encoding="utf-8", errors="replace")

"""The web app: chat with cited answers, passage search, and document management.

A thin layer over `rag.assistant.Assistant`:

    python app.py                      # http://127.0.0.1:7860
    python app.py --port 8000
    python app.py --host 0.0.0.0 --allow-remote --auth alice:secret

Everything the page shows is built here as escaped HTML (never markdown, never raw text from
the articles), the fonts come from assets/fonts, and nothing is fetched from the internet.
Uploaded files are kept in `<index folder>/../uploads/` (next to the index, so a test index
in a temporary folder keeps its uploads there too): the originals stay available to rebuild
the index with `rag ingest --rebuild seeds/ uploads/`, and removing a document deletes its copy.
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage statistics, no model hub.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import html
import ipaddress
import logging
import re
import shutil
import sys
import threading
import time
import unicodedata
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import gradio as gr

from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import IndexStoreError, RagError
from rag.language import detect_language, is_rtl
from rag.store import IndexData
from rag.types import Answer
from rag.ui_text import lang_of, t

log = logging.getLogger("rag.app")

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".pdf")
BLANK_LINES = re.compile(r"\n\s*\n")
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,،]\s*\d{1,3})*)\]")
MARKER_WITH_SPACE = re.compile(r"\s*" + MARKER.pattern)
EXAMPLES = (  # from the seed articles, in both languages
    "لماذا سافر وزير الدفاع الروسي إلى كوريا الشمالية؟",
    "Who is John Kirby?",
    "متى سيلتقي كيم جونغ أون بوتين؟",
    "What did Blinken say about Russia and North Korea?",
)
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}
PASSAGE_CONTEXT = 350  # characters shown around a cited sentence in a long paragraph


# ====================================================================== pure helpers


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def text_dir(text: str) -> str:
    return "rtl" if is_rtl(detect_language(text)) else "ltr"


def lang_attr(language: str) -> str:
    return "ar" if language == "ar" else "en"


def safe_filename(name: str, max_length: int = 120) -> str:
    """A file name that cannot escape the uploads folder or hide: no folders, no leading dots,
    no control or shell-special characters; letters in any script (Arabic too) are kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]  # drop any folder part, POSIX or Windows
    name = "".join(c if (c.isalnum() or c in "._- ()") else "_" for c in name)
    name = re.sub(r"_+", "_", name).strip(" ._")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.lower()[:8]
    stem = stem.strip(" ._")[: max_length - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def meta_html(items: list[str]) -> str:
    """Metadata items, each isolated so a file name keeps its order inside Arabic text."""
    return " · ".join(f'<span dir="auto">{esc(m)}</span>' for m in items if m)


def format_seconds(value: float | None, lang: str = "en") -> str:
    if value is None:
        return "–"
    if lang == "ar":
        return f"{value:.2f} ث" if value < 1 else f"{value:.1f} ث"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def render_answer_text(text: str, citations: list[dict[str, Any]], link: bool) -> str:
    """Escaped answer text in paragraphs, with its [n] markers turned into links to sources."""
    by_number = {c["number"]: c for c in citations}

    def marker(match: re.Match) -> str:
        parts = []
        for raw in re.split(r"\s*[,،]\s*", match.group(1)):
            n = int(raw)
            c = by_number.get(n)
            if c is None:
                parts.append(f'<span class="cite-dead">{n}</span>')
                continue
            tip = esc(f"{c.get('title', '')} — {c.get('quote', '')[:160]}")
            if link:
                parts.append(f'<a class="cite" href="#src-{n}" title="{tip}">{n}</a>')
            else:
                parts.append(f'<span class="cite-old" title="{tip}">{n}</span>')
        return '<sup class="cites">[' + ", ".join(parts) + "]</sup>"

    escaped = MARKER.sub(marker, esc(text.strip()))
    paragraphs = [p for p in re.split(r"\n\s*\n", escaped) if p.strip()]
    return "".join(f"<p>{p.strip().replace(chr(10), '<br>')}</p>" for p in paragraphs)


def locate(text: str, start: int, end: int, quote: str) -> tuple[int, int] | None:
    """The quote's span in the document text: the recorded offsets, or found again."""
    if 0 <= start < end <= len(text) and (not quote or text[start:end].strip() == quote.strip()):
        return start, end
    if quote:
        found = text.find(quote.strip())
        if found >= 0:
            return found, found + len(quote.strip())
    return None


def passage_window(text: str, start: int, end: int,
                   context: int = PASSAGE_CONTEXT) -> tuple[int, int]:
    """The paragraph around [start, end), cut to `context` characters either side."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    right = len(text) if right < 0 else right
    if start - left > context:
        cut = text.find(" ", start - context, start)
        left = cut + 1 if cut >= 0 else start - context
    if right - end > context:
        cut = text.rfind(" ", end, end + context)
        right = cut if cut > end else end + context
    return left, right


def highlighted(text: str, left: int, right: int, start: int, end: int, mark_id: str = "") -> str:
    """Escaped text[left:right] with text[start:end] in a <mark>."""
    ident = f' id="{esc(mark_id)}"' if mark_id else ""
    before = ("… " if left > 0 and text[left - 1] != "\n" else "") + esc(text[left:start])
    after = esc(text[end:right]) + (" …" if right < len(text) and text[right] != "\n" else "")
    return f'{before}<mark class="hl"{ident}>{esc(text[start:end])}</mark>{after}'


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """'user:password' or several separated by commas."""
    if not value:
        return None
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise ValueError("--auth must be user:password (several separated by commas)")
        pairs.append((user, password))
    return pairs


def new_session() -> dict[str, Any]:
    return {"turns": [], "timings": {}}


# ====================================================================== the service


class Service:
    """The shared Assistant, with its models loaded in a background thread at start."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.embedder_ready = threading.Event()
        self.llm_ready = threading.Event()
        self.errors: dict[str, str] = {}
        self.load_seconds: dict[str, float] = {}
        self.uploads_dir = (settings.index_dir.parent / "uploads").resolve()
        self._cancels: dict[str, threading.Event] = {}
        self._write_lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._load, name="load-models", daemon=True).start()

    def _load(self) -> None:
        t0 = time.monotonic()
        try:
            self.assistant.embedder  # noqa: B018 - loads it
            self.load_seconds["embedder"] = time.monotonic() - t0
            try:  # load the index and warm the retriever (the lexical index is built lazily)
                self.assistant.search("warm up", 1)
            except IndexStoreError as e:
                log.warning("no usable index yet: %s", e)
        except Exception as e:
            self.errors["embedder"] = str(e) if isinstance(e, RagError) else repr(e)
            log.exception("loading the embedding model failed")
        finally:
            self.embedder_ready.set()
        t1 = time.monotonic()
        try:
            self.assistant.llm  # noqa: B018 - loads it
            self.load_seconds["llm"] = time.monotonic() - t1
        except Exception as e:
            self.errors["llm"] = str(e) if isinstance(e, RagError) else repr(e)
            log.exception("loading the language model failed")
        finally:
            self.llm_ready.set()
        log.info("models loaded: %s", {k: round(v, 1) for k, v in self.load_seconds.items()})

    def require(self, part: str, timeout: float = 600.0) -> None:
        """Wait for a model ('embedder' or 'llm'); a failed load raises its error."""
        event = self.embedder_ready if part == "embedder" else self.llm_ready
        if not event.wait(timeout):
            raise RagError("The models are still loading; please try again in a moment.")
        for name in ("embedder", part):
            if name in self.errors:
                raise ModelLoadError(self.errors[name])

    def index(self) -> IndexData | None:
        """The current index, or None while there is none (or the embedder is not loaded)."""
        if not self.embedder_ready.is_set() or "embedder" in self.errors:
            return None
        try:
            return self.assistant.index
        except IndexStoreError:
            return None

    def cancel_event(self, session: str) -> threading.Event:
        event = threading.Event()
        self._cancels[session] = event
        return event

    def finished(self, session: str, event: threading.Event) -> None:
        if self._cancels.get(session) is event:
            del self._cancels[session]

    def cancel(self, session: str) -> None:
        event = self._cancels.pop(session, None)
        if event is not None:
            event.set()


class ModelLoadError(RagError):
    pass


def _api_error(error: BaseException) -> gr.Error:
    # `friendly` already logged an unexpected error with its traceback; a user's mistake
    # ("the question is empty") is no traceback at all. Gradio would print one for both.
    return gr.Error(friendly("en", error), print_exception=False)


def friendly(lang: str, error: BaseException) -> str:
    """What the user sees for an error: never a traceback."""
    if isinstance(error, ModelLoadError):
        return t(lang, "error_models", message=str(error))
    if isinstance(error, RagError):
        return t(lang, "error_prefix", message=str(error))
    log.error("unexpected error", exc_info=error)
    return t(lang, "error_generic")


# ====================================================================== rendering


class Views:
    """HTML for each part of the page, from plain data and the current index."""

    def __init__(self, service: Service) -> None:
        self.service = service

    # ---------------------------------------------------------------- header and status

    @staticmethod
    def header(lang: str) -> str:
        return (f'<div id="app-header-inner" dir="auto"><h1>{esc(t(lang, "app_title"))}</h1>'
                f'<p>{esc(t(lang, "app_subtitle"))}</p></div>')

    def status(self, lang: str, timings: dict[str, float] | None = None) -> str:
        s, service = self.service.settings, self.service

        def part(label: str, name: str, state: str, detail: str = "") -> str:
            dot = {"ready": "ok", "loading": "busy", "failed": "bad"}[state]
            text = detail or t(lang, f"status_{state}")
            title = f' title="{esc(service.errors.get(name, ""))}"' if state == "failed" else ""
            return (f'<span class="part"{title}><span class="dot {dot}"></span>'
                    f'{esc(label)}: {esc(text)}</span>')

        def state_of(name: str, event: threading.Event) -> str:
            if name in service.errors:
                return "failed"
            return "ready" if event.is_set() else "loading"

        llm_name = Path(s.llm).name if not s.llm_endpoint else s.llm_endpoint
        emb_state = state_of("embedder", service.embedder_ready)
        parts = [
            part(f'{t(lang, "status_llm")} {llm_name}', "llm",
                 state_of("llm", service.llm_ready)),
            part(f'{t(lang, "status_embedder")} {Path(s.embedding_model).name}', "embedder",
                 emb_state),
        ]
        index = service.index() if emb_state == "ready" else None
        if index is not None:
            size = t(lang, "status_index_size", documents=len(index.documents),
                     chunks=index.size)
            parts.append(part(t(lang, "status_index"), "index", "ready", size))
        elif emb_state == "ready":
            parts.append(part(t(lang, "status_index"), "index", "failed",
                              t(lang, "status_index_missing")))
        if timings and "total" in timings:
            last = t(lang, "status_timings",
                     retrieval=format_seconds(timings.get("retrieval"), lang),
                     first_token=format_seconds(timings.get("first_token"), lang),
                     total=format_seconds(timings.get("total"), lang))
            parts.append(f'<span class="part timings">{esc(last)}</span>')
        return f'<div class="status-bar" dir="auto">{"".join(parts)}</div>'

    # ---------------------------------------------------------------- chat

    @staticmethod
    def chat(turns: list[dict[str, Any]], lang: str) -> str:
        if not turns:
            return (f'<div class="chat"><div class="intro" dir="auto">'
                    f'{esc(t(lang, "chat_empty"))}</div></div>')
        out = ['<div class="chat" role="log" aria-live="polite">']
        last = len(turns) - 1
        for i, turn in enumerate(turns):
            q = turn["q"]
            out.append(f'<div class="msg user" dir="{text_dir(q)}" lang="{lang_attr(turn["q_lang"])}">'
                       f'<div class="who">{esc(t(lang, "you"))}</div>'
                       f'<div class="body"><p>{esc(q).replace(chr(10), "<br>")}</p></div></div>')
            out.append(Views._bot_message(turn, lang, link=(i == last)))
        out.append("</div>")
        return "".join(out)

    @staticmethod
    def _bot_message(turn: dict[str, Any], lang: str, link: bool) -> str:
        status = turn["status"]
        answer = turn.get("answer") or {}
        citations = answer.get("citations", [])
        notes = []
        if status == "error":
            body = f'<p>{esc(turn["a"])}</p>'
            a_dir, a_lang = ("rtl" if lang == "ar" else "ltr"), lang
        else:
            a_lang = answer.get("language") or turn["q_lang"]
            text = turn["a"]
            a_dir = text_dir(text) if text.strip() else ("rtl" if is_rtl(a_lang) else "ltr")
            if text.strip():
                body = render_answer_text(text, citations, link)
            elif status == "waiting":
                body = (f'<p class="waiting">'
                        f'{esc(t(a_lang, "waiting_model", seconds=turn.get("wait", 0)))}</p>')
            else:
                body = f'<p class="waiting">{esc(t(a_lang, "thinking"))}</p>'
            if status == "done" and answer:
                if answer.get("standalone_question"):
                    notes.append(('', t(a_lang, "rewritten_as",
                                        question=answer["standalone_question"])))
                if answer.get("unsupported") and not answer.get("refused"):
                    notes.append(("warn", t(a_lang, "unsupported_note")))
        classes = "msg bot" + (" pending" if status in ("pending", "waiting") else "") + \
            (" error" if status == "error" else "")
        note_html = "".join(f'<div class="note {cls}" dir="auto">{esc(n)}</div>'
                            for cls, n in notes)
        return (f'<div class="{classes}" dir="{a_dir}" lang="{lang_attr(a_lang)}">'
                f'<div class="who">{esc(t(lang, "assistant"))}</div>'
                f'<div class="body">{body}</div>{note_html}</div>')

    @staticmethod
    def notice(message: str) -> str:
        return f'<div class="notice" role="alert" dir="auto">{esc(message)}</div>' \
            if message else ""

    # ---------------------------------------------------------------- sources

    def sources(self, turns: list[dict[str, Any]], lang: str) -> str:
        title = f'<h2>{esc(t(lang, "sources_title"))}</h2>'
        answered = [tn for tn in turns if tn["status"] == "done" and tn.get("answer")]
        if not answered or answered[-1] is not turns[-1]:
            return f'{title}<p class="sources-empty">{esc(t(lang, "sources_empty"))}</p>'
        citations = answered[-1]["answer"].get("citations", [])
        if not citations:
            return f'{title}<p class="sources-empty">{esc(t(lang, "sources_none"))}</p>'
        index = self.service.index()
        documents = index.documents if index is not None else {}
        return title + "".join(self.source_entry(c, documents.get(c["doc_id"]), lang)
                               for c in citations)

    @staticmethod
    def source_entry(c: dict[str, Any], document: Any, lang: str) -> str:
        n = c["number"]
        doc_lang = getattr(document, "language", "") or detect_language(c.get("quote", ""))
        d = "rtl" if is_rtl(doc_lang) else "ltr"
        meta = [c.get("date") or t(lang, "no_date"), c.get("source") or t(lang, "no_source")]
        if document is not None:
            meta.append(document.source_file)
        badge = "" if c.get("supported", True) else \
            f'<span class="badge">{esc(t(lang, "source_weak"))}</span>'
        head = (f'<div class="head"><span class="num">[{n}]</span>'
                f'<span class="title" dir="auto">{esc(c.get("title", ""))}</span>{badge}</div>'
                f'<div class="meta" dir="auto">{meta_html(meta)}'
                f'</div>')
        span = locate(document.text, c["start"], c["end"], c.get("quote", "")) \
            if document is not None else None
        if span is None:
            body = (f'<p class="passage" dir="{d}" lang="{lang_attr(doc_lang)}">'
                    f'<mark class="hl">{esc(c.get("quote", ""))}</mark></p>'
                    f'<p class="muted">{esc(t(lang, "article_missing"))}</p>')
        else:
            text = document.text
            left, right = passage_window(text, *span)
            body = (f'<p class="passage" dir="{d}" lang="{lang_attr(doc_lang)}">'
                    f'{highlighted(text, left, right, *span)}</p>'
                    f'<details class="article" id="article-{n}">'
                    f'<summary>{esc(t(lang, "open_article"))}</summary>'
                    f'<div class="article-text" dir="{d}" lang="{lang_attr(doc_lang)}">'
                    f'<h3 dir="auto">{esc(document.title)}</h3>'
                    f'{highlighted(text, 0, len(text), *span, mark_id=f"art-{n}-mark")}'
                    f'</div></details>')
        return (f'<article class="source" id="src-{n}" data-doc="{esc(c["doc_id"])}" '
                f'dir="{d}" lang="{lang_attr(doc_lang)}">{head}{body}</article>')

    # ---------------------------------------------------------------- search

    @staticmethod
    def hits(passages: list[dict[str, Any]], lang: str) -> str:
        if not passages:
            return f'<p class="sources-empty">{esc(t(lang, "search_none"))}</p>'
        out = ['<div class="hits">']
        for p in passages:
            d = text_dir(p["text"])
            meta = [p.get("date") or t(lang, "no_date"), p.get("source") or t(lang, "no_source"),
                    p.get("source_file", "")]
            out.append(
                f'<article class="source" dir="{d}" lang="{"ar" if d == "rtl" else "en"}">'
                f'<div class="head"><span class="num">{p["rank"]}.</span>'
                f'<span class="title" dir="auto">{esc(p["title"])}</span>'
                f'<span class="score">{esc(t(lang, "search_score", score=p["score"]))}</span>'
                f'</div><div class="meta" dir="auto">'
                f'{meta_html(meta)}</div>'
                f'<p class="passage" dir="{d}">{esc(BLANK_LINES.sub(chr(10), p["text"]))}'
                f'</p></article>')
        out.append("</div>")
        return "".join(out)

    # ---------------------------------------------------------------- documents

    def documents(self, lang: str) -> tuple[str, list[tuple[str, str]]]:
        """The table of indexed documents and the (label, file) choices for removal."""
        title = f'<h2>{esc(t(lang, "docs_title"))}</h2>'
        if not self.service.embedder_ready.is_set():
            return f'{title}<p class="sources-empty">{esc(t(lang, "docs_loading"))}</p>', []
        index = self.service.index()
        if index is None or not index.documents:
            return f'{title}<p class="sources-empty">{esc(t(lang, "docs_empty"))}</p>', []
        per_doc = Counter(c.doc_id for c in index.chunks)
        docs = sorted(index.documents.values(), key=lambda d: (d.source_file, d.doc_id))
        files = {d.source_file for d in docs}
        head = "".join(f"<th>{esc(t(lang, k))}</th>" for k in
                       ("col_title", "col_date", "col_source", "col_kind", "col_file",
                        "col_chunks"))
        rows = []
        for d in docs:
            kind = t(lang, f"kind_{d.kind}") if d.kind in ("article", "teaser") else d.kind
            rows.append(f'<tr data-file="{esc(d.source_file)}">'
                        f'<td dir="auto">{esc(d.title)}</td><td>{esc(d.date)}</td>'
                        f'<td dir="auto">{esc(d.source)}</td><td>{esc(kind)}</td>'
                        f'<td class="file" dir="auto">{esc(d.source_file)}</td>'
                        f'<td class="num">{per_doc.get(d.doc_id, 0)}</td></tr>')
        count = t(lang, "docs_count", documents=len(docs), files=len(files), chunks=index.size)
        table = (f'{title}<p class="muted">{esc(count)}</p><div class="docs-wrap">'
                 f'<table class="docs"><thead><tr>{head}</tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table></div>')
        titles: dict[str, str] = {}
        for d in docs:
            titles.setdefault(d.source_file, d.title)
        choices = [(f"{name} — {titles[name][:60]}", name) for name in sorted(files)]
        return table, choices


# ====================================================================== the app


class WebApp:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self.views = Views(service)

    # ---------------------------------------------------------------- chat

    def chat(self, question: str, state: dict[str, Any], lang: str,
             request: gr.Request | None = None):
        """Stream an answer: yields (chat, sources, notice, question box, state, status)."""
        lang = lang_of(lang)
        question = (question or "").strip()
        problem = self._question_problem(question, lang, "error_empty")
        if problem:
            yield (gr.skip(), gr.skip(), self.views.notice(problem), gr.skip(), gr.skip(),
                   gr.skip())
            return
        session = getattr(request, "session_hash", None) or uuid.uuid4().hex
        cancel = self.service.cancel_event(session)
        done_turns = [tn for tn in state.get("turns", [])
                      if tn["status"] not in ("pending", "waiting")]
        # Earlier answers without their [n] markers: the small model copies them into the
        # rewritten follow-up question otherwise.
        history = [(tn["q"], MARKER_WITH_SPACE.sub("", tn["a"]).strip()) for tn in done_turns
                   if tn["status"] == "done" and not (tn.get("answer") or {}).get("refused")]
        turn: dict[str, Any] = {"q": question, "q_lang": detect_language(question), "a": "",
                                "status": "pending"}
        turns = done_turns + [turn]
        state = {**state, "turns": turns}

        def frame(sources: Any = None, status: Any = None, clear: bool = False):
            # The question box is emptied once, so that typing the next question while
            # this answer streams is not undone by each update.
            return (self.views.chat(turns, lang), gr.skip() if sources is None else sources,
                    "", "" if clear else gr.skip(), state,
                    gr.skip() if status is None else status)

        yield frame(sources=self.views.sources(turns, lang), clear=True)
        try:
            waited = time.monotonic()
            while not self.service.llm_ready.wait(0.5):
                turn["status"], turn["wait"] = "waiting", time.monotonic() - waited
                yield frame()
            self.service.require("llm")
            turn["status"] = "pending"
            final: Answer | None = None
            last_yield = 0.0
            for item in self.service.assistant.stream(question, history, cancel=cancel):
                if isinstance(item, Answer):
                    final = item
                    continue
                turn["a"] += item
                if time.monotonic() - last_yield > 0.08:
                    last_yield = time.monotonic()
                    yield frame()
            if final is None:  # cancelled by "new chat"
                return
            answer = final.to_dict()
            answer.pop("prompt", None)
            turn.update(a=final.text, answer=answer, status="done")
            state["timings"] = dict(final.timings)
        except Exception as e:  # noqa: BLE001 - shown as a friendly message, logged
            turn.update(a=friendly(lang, e), status="error")
        finally:
            self.service.finished(session, cancel)
        yield frame(sources=self.views.sources(turns, lang),
                    status=self.views.status(lang, state.get("timings")))

    def _question_problem(self, question: str, lang: str, empty_key: str) -> str:
        if not question:
            return t(lang, empty_key)
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return t(lang, "error_too_long", n=len(question), limit=limit)
        return ""

    def new_chat(self, lang: str, request: gr.Request | None = None):
        if request is not None and getattr(request, "session_hash", None):
            self.service.cancel(request.session_hash)
        state = new_session()
        lang = lang_of(lang)
        return (self.views.chat([], lang), self.views.sources([], lang), "", "", state,
                self.views.status(lang))

    # ---------------------------------------------------------------- search

    def ui_search(self, query: str, k: float, lang: str) -> str:
        lang = lang_of(lang)
        query = (query or "").strip()
        problem = self._question_problem(query, lang, "error_empty_query")
        if problem:
            return self.views.notice(problem)
        try:
            self.service.require("embedder")
            passages = self.service.assistant.search(query, max(1, min(int(k), 20)))
        except Exception as e:  # noqa: BLE001
            return self.views.notice(friendly(lang, e))
        return self.views.hits([p.to_dict() for p in passages], lang)

    # ---------------------------------------------------------------- documents

    def refresh_documents(self, lang: str):
        lang = lang_of(lang)
        try:
            table, choices = self.views.documents(lang)
        except Exception as e:  # noqa: BLE001
            return (self.views.notice(friendly(lang, e)),
                    gr.Dropdown(choices=[], value=[], multiselect=True))
        return table, gr.Dropdown(choices=choices, value=[], multiselect=True)

    def upload(self, files: list[str] | None, lang: str, session: dict[str, Any],
               progress=gr.Progress()):  # noqa: B008 - how gradio injects a progress bar
        """Check, copy and ingest uploaded files.

        Returns (report, table, removal choices, upload box, status line)."""
        lang = lang_of(lang)
        status = self.views.status(lang, session.get("timings"))
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
                 for f in (files or [])]
        if not paths:
            return (self.views.notice(t(lang, "upload_nothing")),
                    *self.refresh_documents(lang), None, status)
        lines: list[tuple[str, str, str]] = []  # (css class, file name, message)
        staged: dict[str, Path] = {}
        limit = self.settings.max_upload_mb
        staging = self.service.uploads_dir / f".incoming-{uuid.uuid4().hex[:12]}"
        try:
            with self.service._write_lock:
                progress(0, desc=t(lang, "stage_copying"))
                for path in paths:
                    name = safe_filename(path.name)
                    suffix = Path(name).suffix.lower()
                    size = path.stat().st_size if path.exists() else 0
                    if suffix not in UPLOAD_TYPES:
                        lines.append(("bad", name, t(lang, "upload_bad_type",
                                                     suffix=suffix or "?",
                                                     types=" ".join(UPLOAD_TYPES))))
                    elif size > limit * 2**20:
                        lines.append(("bad", name, t(lang, "upload_too_big",
                                                     size=size / 2**20, mb=limit)))
                    elif name in staged:
                        lines.append(("bad", name, t(lang, "ingest_rejected",
                                                     reason="duplicate name")))
                    else:
                        staging.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(path, staging / name)
                        staged[name] = staging / name
                if staged:
                    self.service.require("embedder")

                    def on_progress(stage: str, done: int, total: int) -> None:
                        progress((done, max(total, 1)), desc=t(lang, f"stage_{stage}"))

                    report = self.service.assistant.ingest(list(staged.values()),
                                                           progress=on_progress)
                    for outcome in report.files:
                        name = Path(outcome.path).name
                        if outcome.status in ("added", "updated", "unchanged"):
                            os.replace(staged[name], self.service.uploads_dir / name)
                            lines.append(("ok", name, t(lang, f"ingest_{outcome.status}",
                                                        chunks=outcome.chunks)))
                        else:
                            lines.append(("bad", name, t(lang, "ingest_rejected",
                                                         reason=outcome.reason or
                                                         outcome.status)))
                    lines.append(("", "", t(lang, "ingest_done", seconds=report.seconds)))
        except Exception as e:  # noqa: BLE001
            lines.append(("bad", "", friendly(lang, e)))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        items = "".join(
            f'<li class="{cls}" dir="auto">'
            + (f'<b dir="auto">{esc(name)}</b>: ' if name else "")
            + f"{esc(message)}</li>" for cls, name, message in lines)
        return (f'<ul class="report" id="upload-report">{items}</ul>',
                *self.refresh_documents(lang), None,
                self.views.status(lang, session.get("timings")))

    def remove(self, names: list[str] | None, lang: str, session: dict[str, Any]):
        """Remove files from the index; returns (report, table, removal choices, status)."""
        lang = lang_of(lang)
        names = [n for n in (names or []) if n]
        if not names:
            return (self.views.notice(t(lang, "remove_none")), *self.refresh_documents(lang),
                    gr.skip())
        try:
            self.service.require("embedder")
            with self.service._write_lock:
                report = self.service.assistant.remove(names)
                for outcome in report.files:
                    if outcome.status == "removed":
                        copy = self.service.uploads_dir / safe_filename(outcome.path)
                        if copy.parent == self.service.uploads_dir and copy.is_file():
                            copy.unlink()
            removed = [f.path for f in report.files if f.status == "removed"]
            message = t(lang, "removed", names=", ".join(removed)) if removed else \
                "; ".join(f"{f.path}: {f.reason}" for f in report.files)
            report_html = f'<ul class="report"><li class="ok" dir="auto">{esc(message)}</li></ul>'
        except Exception as e:  # noqa: BLE001
            report_html = self.views.notice(friendly(lang, e))
        return (report_html, *self.refresh_documents(lang),
                self.views.status(lang, session.get("timings")))

    # ---------------------------------------------------------------- API

    def api_ask(self, question: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question from the indexed articles. `history`: earlier [question, answer]
        pairs of the conversation, oldest first. Returns the answer text, its language, the
        citations (number, title, date, source, quote, start, end, support), whether it was
        refused, and timings in seconds."""
        try:
            self.service.require("llm")
            pairs = []
            for item in history or []:
                if isinstance(item, dict):
                    pairs.append((str(item.get("question", "")), str(item.get("answer", ""))))
                elif isinstance(item, (list, tuple)) and len(item) == 2:
                    pairs.append((str(item[0] or ""), str(item[1] or "")))
            answer = self.service.assistant.ask(question or "", pairs)
        except Exception as e:  # noqa: BLE001
            raise _api_error(e) from None
        result = answer.to_dict()
        result.pop("prompt", None)
        return result

    def api_search(self, query: str, k: int = 5) -> list[dict]:
        """The top-k passages for a query (no language model involved)."""
        try:
            self.service.require("embedder")
            passages = self.service.assistant.search(query or "", max(1, min(int(k), 50)))
        except Exception as e:  # noqa: BLE001
            raise _api_error(e) from None
        return [p.to_dict() for p in passages]

    # ---------------------------------------------------------------- layout

    def build(self) -> gr.Blocks:
        en = "en"
        views = self.views
        private = {"api_visibility": "private"}
        with gr.Blocks(title=t(en, "page_title"), analytics_enabled=False) as demo:
            state = gr.State(new_session())
            with gr.Row(equal_height=False):
                header = gr.HTML(views.header(en), elem_id="app-header", js_on_load=None,
                                 min_width=300)
                lang = gr.Radio([("English", "en"), ("العربية", "ar")], value="en",
                                label=t(en, "language_label"), show_label=False,
                                elem_id="lang-toggle", container=False, scale=0,
                                min_width=190)
            status = gr.HTML(views.status(en), elem_id="status", js_on_load=None)
            with gr.Tabs():
                with gr.Tab(t(en, "tab_chat"), id="chat", elem_id="tab-chat") as tab_chat, \
                        gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=360):
                        chat = gr.HTML(views.chat([], en), elem_id="chatlog",
                                       js_on_load=None)
                        notice = gr.HTML("", elem_id="notice", js_on_load=None)
                        with gr.Row(equal_height=True, elem_id="ask-row"):
                            question = gr.Textbox(label=t(en, "question_label"),
                                                  placeholder=t(en, "question_placeholder"),
                                                  lines=1, max_lines=6, elem_id="question",
                                                  submit_btn=False, scale=5, min_width=260)
                            with gr.Column(scale=1, min_width=130):
                                send = gr.Button(t(en, "send"), variant="primary",
                                                 elem_id="send")
                                new = gr.Button(t(en, "new_chat"), elem_id="new-chat",
                                                size="sm")
                        with gr.Row(elem_id="examples"):
                            examples_title = gr.HTML(f'<p class="muted" dir="auto">'
                                                     f'{esc(t(en, "examples"))}</p>',
                                                     js_on_load=None, min_width=110, scale=0)
                            example_buttons = [
                                gr.Button(q, size="sm", elem_classes=["example"],
                                          min_width=200) for q in EXAMPLES]
                    with gr.Column(scale=2, min_width=320):
                        sources = gr.HTML(views.sources([], en), elem_id="sources",
                                          js_on_load=None)
                with gr.Tab(t(en, "tab_search"), id="search", elem_id="tab-search") as tab_search:
                    search_intro = gr.HTML(f'<p class="muted" dir="auto">{esc(t(en, "search_intro"))}</p>',
                                           js_on_load=None)
                    with gr.Row():
                        query = gr.Textbox(label=t(en, "search_label"),
                                           placeholder=t(en, "search_placeholder"),
                                           elem_id="search-query", scale=4)
                        k = gr.Slider(1, 20, value=self.settings.top_k, step=1,
                                      label=t(en, "search_k"), elem_id="search-k", scale=1)
                    search_btn = gr.Button(t(en, "search_button"), variant="primary",
                                           elem_id="search-button")
                    results = gr.HTML("", elem_id="search-results", js_on_load=None)
                with gr.Tab(t(en, "tab_documents"), id="documents",
                            elem_id="tab-documents") as tab_docs:
                    upload_help = gr.HTML(self._upload_help(en), js_on_load=None)
                    files = gr.File(label=t(en, "upload_label"), file_count="multiple",
                                    file_types=list(UPLOAD_TYPES), type="filepath",
                                    elem_id="upload", height=140)
                    report = gr.HTML("", elem_id="docs-report", js_on_load=None)
                    with gr.Row():
                        to_remove = gr.Dropdown([], value=[], multiselect=True,
                                                label=t(en, "remove_label"),
                                                elem_id="remove-files", scale=4)
                        remove_btn = gr.Button(t(en, "remove_button"), variant="stop",
                                               elem_id="remove-button", scale=1)
                        refresh_btn = gr.Button(t(en, "refresh"), elem_id="refresh-docs",
                                                scale=0, min_width=100)
                    docs = gr.HTML("", elem_id="docs-list", js_on_load=None)
            timer = gr.Timer(1.5)

            # ------------------------------------------------------------ events
            chat_outputs = [chat, sources, notice, question, state, status]
            chat_args = {"fn": self.chat, "inputs": [question, state, lang],
                         "outputs": chat_outputs, "concurrency_limit": 1,
                         "concurrency_id": "llm", "show_progress": "minimal",
                         "show_progress_on": [chat], **private}
            asked = [question.submit(**chat_args), send.click(**chat_args)]
            for button in example_buttons:
                asked.append(button.click(lambda q: q, button, question, queue=False,
                                          **private).then(**chat_args))
            new.click(self.new_chat, [lang], chat_outputs, cancels=asked, queue=False,
                      **private)

            search_args = {"fn": self.ui_search, "inputs": [query, k, lang], "outputs": results,
                           "concurrency_limit": 4, "concurrency_id": "search", **private}
            query.submit(**search_args)
            search_btn.click(**search_args)

            files.upload(self.upload, [files, lang, state],
                         [report, docs, to_remove, files, status],
                         concurrency_limit=1, concurrency_id="write", **private)
            remove_btn.click(self.remove, [to_remove, lang, state],
                             [report, docs, to_remove, status],
                             concurrency_limit=1, concurrency_id="write", **private)
            refresh_btn.click(self.refresh_documents, [lang], [docs, to_remove], **private)
            tab_docs.select(self.refresh_documents, [lang], [docs, to_remove], **private)

            def tick(lang_value: str, session: dict[str, Any]):
                ready = self.service.llm_ready.is_set() and self.service.embedder_ready.is_set()
                return (views.status(lang_of(lang_value), session.get("timings")),
                        gr.Timer(active=not ready))

            timer.tick(tick, [lang, state], [status, timer], queue=False, **private)
            demo.load(tick, [lang, state], [status, timer], queue=False, **private)

            relabel_outputs = [header, status, tab_chat, tab_search, tab_docs, chat, sources,
                               question, send, new, examples_title, search_intro, query, k,
                               search_btn, upload_help, files, to_remove, remove_btn,
                               refresh_btn, docs]

            def relabel(lang_value: str, session: dict[str, Any]):
                lg = lang_of(lang_value)
                table, _ = self.refresh_documents(lg)
                return (views.header(lg), views.status(lg, session.get("timings")),
                        gr.Tab(label=t(lg, "tab_chat")), gr.Tab(label=t(lg, "tab_search")),
                        gr.Tab(label=t(lg, "tab_documents")),
                        views.chat(session["turns"], lg), views.sources(session["turns"], lg),
                        gr.Textbox(label=t(lg, "question_label"),
                                   placeholder=t(lg, "question_placeholder")),
                        gr.Button(t(lg, "send")), gr.Button(t(lg, "new_chat")),
                        f'<p class="muted" dir="auto">{esc(t(lg, "examples"))}</p>',
                        f'<p class="muted" dir="auto">{esc(t(lg, "search_intro"))}</p>',
                        gr.Textbox(label=t(lg, "search_label"),
                                   placeholder=t(lg, "search_placeholder")),
                        gr.Slider(label=t(lg, "search_k")),
                        gr.Button(t(lg, "search_button")), self._upload_help(lg),
                        gr.File(label=t(lg, "upload_label")),
                        gr.Dropdown(label=t(lg, "remove_label"), multiselect=True),
                        gr.Button(t(lg, "remove_button")), gr.Button(t(lg, "refresh")), table)

            lang.change(relabel, [lang, state], relabel_outputs, queue=False,
                        js="(lang, session) => [window.ragSetLanguage(lang), session]",
                        **private)
            # The interface follows the browser's language until the user picks one.
            demo.load(None, None, lang, js="() => ((navigator.languages || [navigator.language])"
                      ".some(l => (l || '').toLowerCase().startsWith('ar')) ? 'ar' : 'en')",
                      **private)
            demo.load(self.refresh_documents, [lang], [docs, to_remove], **private)

            gr.api(self.api_ask, api_name="ask", concurrency_limit=1, concurrency_id="llm")
            gr.api(self.api_search, api_name="search", concurrency_limit=4,
                   concurrency_id="search")
        return demo

    def _upload_help(self, lang: str) -> str:
        types = " ".join(UPLOAD_TYPES)
        text = esc(t(lang, "upload_help", mb=self.settings.max_upload_mb, types=types))
        text = text.replace(esc(types), f'<span dir="ltr">{esc(types)}</span>')
        return f'<p class="muted" id="upload-help" dir="auto">{text}</p>'


# ====================================================================== serving


def page_css() -> str:
    """The app's CSS, with the bundled Arabic font served by this app itself."""
    fonts = ASSETS / "fonts"
    faces = []
    for weight, style in ((400, "Regular"), (700, "Bold")):
        url = f"gradio_api/file={(fonts / f'NotoSansArabicUI-{style}.woff2').as_posix()}"
        faces.append(
            "@font-face { font-family: 'Noto Sans Arabic UI'; font-style: normal; "
            f"font-weight: {weight}; font-display: swap; src: url('{url}') format('woff2'); "
            "unicode-range: U+0600-06FF, U+0750-077F, U+08A0-08FF, U+FB50-FDFF, U+FE70-FEFF; }")
    return "\n".join(faces) + "\n" + (ASSETS / "app.css").read_text(encoding="utf-8")


def page_head() -> str:
    return f"<script>\n{(ASSETS / 'app.js').read_text(encoding='utf-8')}\n</script>"


def theme() -> gr.themes.Base:
    """Gradio's default theme with fonts that are all local: the bundled Arabic font first
    (it only covers Arabic), then Gradio's own bundled Latin font, then system fonts.

    Only the regular and bold files of Gradio's fonts: its "SemiBold" files hold two glyphs
    (A and B), so semi-bold text fell back to another font letter by letter."""
    sans = ["Noto Sans Arabic UI", gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)),
            "Noto Sans Arabic", "DejaVu Sans", "Segoe UI", "Tahoma", "system-ui", "sans-serif"]
    mono = [gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700)), "DejaVu Sans Mono",
            "ui-monospace", "monospace"]
    return gr.themes.Default(font=sans, font_mono=mono)


def hard_upload_limit_mb(settings: Settings) -> int:
    """Gradio's own limit, which stops a file before it is uploaded, with an English-only
    message. It is set above `max_upload_mb` so that ordinary oversized files reach the app
    and get its clearer message in the user's language; only huge ones are stopped early."""
    return max(5 * settings.max_upload_mb, settings.max_upload_mb + 20)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the news assistant's web app.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="Address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME). "
                             "Anything but loopback needs --allow-remote.")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                        help="Port (default 7860, or GRADIO_SERVER_PORT).")
    parser.add_argument("--allow-remote", action="store_true",
                        help="Allow listening on a non-loopback address (other machines can "
                             "then reach the app; use --auth).")
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"),
                        help="user:password required to open the app (or RAG_AUTH); several "
                             "separated by commas.")
    parser.add_argument("--config", default=None, help="Settings file (TOML).")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log more.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"Refusing to listen on {args.host}: other machines could reach the app. "
              f"Add --allow-remote (and --auth user:password) to do it on purpose.",
              file=sys.stderr)
        return 2
    try:
        auth = parse_auth(args.auth)
        settings = Settings.load(args.config)
    except (ValueError, RagError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not auth:
        print("Warning: listening on a non-loopback address without --auth: anyone who can "
              "reach this machine can use the app.", file=sys.stderr)
    service = Service(settings)
    service.start()  # models load in the background; the page comes up at once
    demo = WebApp(service).build()
    demo.queue(default_concurrency_limit=4, max_size=64)
    gr.set_static_paths([ASSETS / "fonts"])
    demo.launch(server_name=args.host, server_port=args.port, auth=auth, share=False,
                theme=theme(), css=page_css(), head=page_head(), footer_links=["api"],
                ssr_mode=False, max_file_size=f"{hard_upload_limit_mb(settings)}mb",
                enable_monitoring=False, run_history=False, pwa=False, mcp_server=False,
                show_error=False, favicon_path=None, quiet=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

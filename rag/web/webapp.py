"""The app's event handlers (chat, search, documents) and its named API functions.

Each handler takes the values of the page's components and returns their new values; the
work itself is the library's (`Assistant`, `UploadFolder`), the HTML is `Views`'.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from ..assistant import check_question
from ..citations import MARKER
from ..errors import ModelError, QueryError, RagError
from ..language import detect_language
from ..types import Answer, FileOutcome
from ..uploads import KEPT, UPLOAD_TYPES, Rejection
from .received import discard
from .service import Service
from .text import lang_of, t
from .views import ReportLine, Views

log = logging.getLogger("rag.app")
STREAM_UPDATE_S = 0.08  # at most one chat update per this many seconds while an answer streams


def new_session() -> dict[str, Any]:
    return {"turns": [], "timings": {}}


def friendly(lang: str, error: BaseException) -> str:
    """What the user sees for an error: never a traceback."""
    if isinstance(error, ModelError):
        return t(lang, "error_models", message=str(error))
    if isinstance(error, RagError):
        return t(lang, "error_prefix", message=str(error))
    log.error("unexpected error", exc_info=error)
    return t(lang, "error_generic")


def question_problem(question: str, limit: int, lang: str, empty_key: str) -> str:
    """`check_question`'s objection in the interface language, or "" if there is none."""
    try:
        check_question(question, limit)
    except QueryError:  # empty or too long: the library's English message, translated
        if not question.strip():
            return t(lang, empty_key)
        return t(lang, "error_too_long", n=len(question), limit=limit)
    return ""


def _session(request: gr.Request | None, state: dict[str, Any]) -> str:
    """Who is asking: the browser session, or (called from Python) the conversation's own id."""
    hashed = getattr(request, "session_hash", None)
    if hashed:
        return hashed
    return state.get("session") or uuid.uuid4().hex


def _api_error(error: BaseException) -> gr.Error:
    # `friendly` already logged an unexpected error with its traceback; a user's mistake
    # ("the question is empty") is no traceback at all. Gradio would print one for both.
    return gr.Error(friendly("en", error), print_exception=False)


class WebApp:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self.views = Views(service)

    # ---------------------------------------------------------------- chat
    # Asking is two events: `accept` (immediate, never queued, never dropped) puts the
    # question in the conversation, or refuses it with a message while an answer is still
    # being written; `answer` then streams the answer to the accepted question. Enter, the Ask
    # button and the examples all trigger the same pair.

    def chat(self, question: str, state: dict[str, Any], lang: str,
             request: gr.Request | None = None):
        """`accept` then `answer`, as one stream of (chat, sources, notice, question box,
        state, status, stop button) frames: what one question does in the page."""
        first = self.accept(question, state, lang, request)
        yield first
        if first[2] == "":  # accepted (no notice): the state holds the new pending turn
            yield from self.answer(first[4], lang, request)

    def accept(self, question: str, state: dict[str, Any], lang: str,
               request: gr.Request | None = None):
        """The question joins the conversation as a pending turn and the box empties, or a
        notice says why not (empty, too long, an answer still being written)."""
        lang = lang_of(lang)
        question = (question or "").strip()
        problem = question_problem(question, self.settings.max_question_chars, lang,
                                   "error_empty")
        session = _session(request, state)
        run = None if problem else self.service.start_run(session)
        if not problem and run is None:
            problem = t(lang, "busy_refused")
        if problem:  # the question stays in the box
            return (gr.skip(), gr.skip(), self.views.notice(problem), gr.skip(), gr.skip(),
                    gr.skip(), gr.skip())
        done = [tn for tn in state.get("turns", []) if tn["status"] not in ("pending", "waiting")]
        turns = [*done, {"q": question, "q_lang": detect_language(question), "a": "",
                         "status": "pending"}]
        state = {**state, "turns": turns, "session": session, "run": run.id}
        return (self.views.chat(turns, lang), self.views.sources(turns, lang), "",
                gr.Textbox(value="", placeholder=t(lang, "busy_placeholder")), state,
                gr.skip(), gr.Button(visible=True))

    def answer(self, state: dict[str, Any], lang: str, request: gr.Request | None = None):
        """Stream the answer to the pending turn `accept` added: yields (chat, sources, notice,
        question box, state, status, stop button). Nothing once "New chat" discarded it."""
        lang = lang_of(lang)
        session = _session(request, state)
        run = self.service.run(session)
        turns = [dict(tn) for tn in state.get("turns", [])]
        # Only the answer to the question `accept` took: a refused question's event (queued
        # behind the running answer, with the state of its time) must not start one.
        if run is None or run.started or run.id != state.get("run"):
            yield (gr.skip(),) * 7  # a generator that yields nothing is an error to Gradio
            return
        run.started = True
        log.info("answering %s in session %s", run.id, session[:8])
        turn = turns[-1]
        done_turns = turns[:-1]
        # Earlier answers without their [n] markers: the small model copies them into the
        # rewritten follow-up question otherwise.
        history = [(tn["q"], MARKER.sub("", tn["a"]).strip()) for tn in done_turns
                   if tn["status"] == "done" and not (tn.get("answer") or {}).get("refused")]
        state = {**state, "turns": turns}

        def frame(sources: Any = None, status: Any = None, end: bool = False):
            if run.discarded:  # "New chat": this conversation is gone from the page
                return (gr.skip(),) * 7
            box = gr.Textbox(placeholder=t(lang, "question_placeholder")) if end else gr.skip()
            return (self.views.chat(turns, lang), gr.skip() if sources is None else sources,
                    "", box, state, gr.skip() if status is None else status,
                    gr.Button(visible=False) if end else gr.skip())

        try:
            waited = time.monotonic()
            while self.service.llm_loading(wait=0.5) and not run.cancel.is_set():
                turn["status"], turn["wait"] = "waiting", time.monotonic() - waited
                yield frame()
            turn["status"] = "pending"
            final: Answer | None = None
            last_yield = 0.0
            for item in self.service.assistant.stream(turn["q"], history, cancel=run.cancel):
                if isinstance(item, Answer):
                    final = item
                    continue
                turn["a"] += item
                if time.monotonic() - last_yield > STREAM_UPDATE_S:
                    last_yield = time.monotonic()
                    yield frame()
            turn["stopped"] = run.cancel.is_set()  # by Stop: not finished, not checked
            if final is None:  # stopped before anything was generated
                turn.update(a=turn["a"] + " " + t(lang, "stopped_note"), status="done")
            else:
                answer = final.to_dict()
                answer.pop("prompt", None)
                turn.update(a=final.text, answer=answer, status="done")
                state["timings"] = dict(final.timings)
        except Exception as e:  # noqa: BLE001 - shown as a friendly message, logged
            turn.update(a=friendly(lang, e), status="error")
        finally:
            self.service.finished(session, run)
            log.info("answer %s ended (%s)", run.id,
                     "discarded" if run.discarded else turn["status"])
        yield frame(sources=self.views.sources(turns, lang),
                    status=self.views.status(lang, state.get("timings")), end=True)

    def stop(self, state: dict[str, Any], request: gr.Request | None = None) -> None:
        """End the answer being written; what was written so far stays, marked stopped."""
        self.service.stop(_session(request, state))

    def new_chat(self, lang: str, state: dict[str, Any] | None = None,
                 request: gr.Request | None = None):
        """An empty conversation; an answer still being written is stopped and dropped."""
        self.service.discard(_session(request, state or {}))
        lang = lang_of(lang)
        return (self.views.chat([], lang), self.views.sources([], lang), "",
                gr.Textbox(value="", placeholder=t(lang, "question_placeholder")),
                new_session(), self.views.status(lang), gr.Button(visible=False))

    # ---------------------------------------------------------------- search

    def ui_search(self, query: str, k: float, lang: str, state: dict[str, Any]):
        """The relevant passages for a query, kept in the state so that a language switch
        can show them again; returns (results, state)."""
        lang = lang_of(lang)
        query = (query or "").strip()
        problem = question_problem(query, self.settings.max_question_chars, lang,
                                   "error_empty_query")
        if problem:
            return self.views.notice(problem), gr.skip()
        try:
            passages = self.service.assistant.search(query, max(1, min(int(k), 20)),
                                                     relevant_only=True)
        except Exception as e:  # noqa: BLE001
            return self.views.notice(friendly(lang, e)), gr.skip()
        found = {"query": query, "passages": [p.to_dict() for p in passages]}
        return self.views.hits(found["passages"], lang, query), {**state, "search": found}

    def search_results(self, state: dict[str, Any], lang: str) -> str:
        """The last search's results again (in another interface language)."""
        found = state.get("search")
        return self.views.hits(found["passages"], lang, found["query"]) if found else ""

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
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
                 for f in (files or [])]
        if not paths:
            return (self.views.notice(t(lang, "upload_nothing")),
                    *self.refresh_documents(lang), None,
                    self.views.status(lang, session.get("timings")))

        def on_progress(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=t(lang, f"stage_{stage}"))

        uploads = self.service.uploads
        lines: list[ReportLine] = []
        try:
            accepted, rejected = uploads.check(paths)
            lines += [("bad", r.name, self._rejection_text(lang, r)) for r in rejected]
            if accepted:
                report = uploads.add(accepted, self.service.assistant, progress=on_progress)
                lines += [self._outcome_line(lang, outcome) for outcome in report.files]
                lines.append(("", "", t(lang, "ingest_done", seconds=report.seconds)))
        except Exception as e:  # noqa: BLE001
            lines.append(("bad", "", friendly(lang, e)))
        finally:
            discard(paths)  # Gradio's copies: the uploads folder keeps what the index took
        return (self.views.report(lines, lang, "upload-report"), *self.refresh_documents(lang),
                None,
                self.views.status(lang, session.get("timings")))

    def _rejection_text(self, lang: str, rejection: Rejection) -> str:
        if rejection.reason == "type":
            return t(lang, "upload_bad_type", suffix=rejection.suffix or "?",
                     types=" ".join(UPLOAD_TYPES))
        if rejection.reason == "size":
            return t(lang, "upload_too_big", size=rejection.size / 2**20,
                     mb=self.service.uploads.max_mb)
        return t(lang, "ingest_rejected", reason="duplicate name")

    @staticmethod
    def _outcome_line(lang: str, outcome: FileOutcome) -> ReportLine:
        name = Path(outcome.path).name
        if outcome.status in KEPT:
            renamed = t(lang, "upload_renamed", name=outcome.renamed_from) \
                if outcome.renamed_from else ""
            return "ok", name, t(lang, f"ingest_{outcome.status}", chunks=outcome.chunks) + renamed
        return "bad", name, t(lang, "ingest_rejected", reason=outcome.reason or outcome.status)

    def confirm_remove(self, names: list[str] | None, lang: str):
        """Ask before removing: returns (report, confirmation row)."""
        lang = lang_of(lang)
        names = [n for n in (names or []) if n]
        if not names:
            return self.views.notice(t(lang, "remove_none")), gr.Column(visible=False)
        question = t(lang, "remove_confirm", names=self.views.file_counts(names, lang))
        return self.views.report([("warn", "", question)], lang, "remove-question"), \
            gr.Column(visible=True)

    def cancel_remove(self, lang: str):
        lang = lang_of(lang)
        return self.views.report([("", "", t(lang, "remove_cancelled"))], lang), \
            gr.Column(visible=False)

    def remove(self, names: list[str] | None, lang: str, session: dict[str, Any]):
        """Remove files from the index; returns (report, table, removal choices, status,
        confirmation row). The report says what went: files, documents and passages."""
        lang = lang_of(lang)
        names = [n for n in (names or []) if n]
        if not names:
            return (self.views.notice(t(lang, "remove_none")), *self.refresh_documents(lang),
                    gr.skip(), gr.Column(visible=False))
        try:
            counted = {n: self.views.file_counts([n], lang) for n in names}
            report = self.service.uploads.remove(names, self.service.assistant)
            removed = [counted.get(f.path) or Path(f.path).name for f in report.files
                       if f.status == "removed"]
            message = t(lang, "removed", names=", ".join(removed)) if removed else \
                "; ".join(f"{f.path}: {f.reason}" for f in report.files)
            report_html = self.views.report([("ok", "", message)], lang, "remove-report")
        except Exception as e:  # noqa: BLE001
            report_html = self.views.notice(friendly(lang, e))
        return (report_html, *self.refresh_documents(lang),
                self.views.status(lang, session.get("timings")), gr.Column(visible=False))

    # ---------------------------------------------------------------- API

    def api_ask(self, question: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question from the indexed articles. `history`: earlier [question, answer]
        pairs of the conversation, oldest first. Returns the answer text, its language, the
        citations (number, title, date, source, quote, start, end, support), whether it was
        refused, and timings in seconds."""
        try:
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
        """The top-k relevant passages for a query (no language model involved); [] when
        nothing in the articles is relevant enough (rag/relevance.py)."""
        try:
            passages = self.service.assistant.search(query or "", k, relevant_only=True)
        except Exception as e:  # noqa: BLE001
            raise _api_error(e) from None
        return [p.to_dict() for p in passages]

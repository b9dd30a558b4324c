"""HTML for each part of the page, from plain data and the current index (all escaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..language import detect_language, is_rtl
from ..untrusted import shown
from ..uploads import UPLOAD_TYPES
from .render import (
    BLANK_LINES,
    esc,
    format_seconds,
    highlighted,
    lang_attr,
    locate,
    mark_words,
    meta_html,
    passage_window,
    render_answer_text,
    text_dir,
)
from .service import Service
from .text import t

ReportLine = tuple[str, str, str]  # (css class, file name, message)


def panel(lang: str, inner: str, classes: str = "rag-panel") -> str:
    """A part of the page in the interface's direction: headings, counts and table columns
    of the Arabic interface run right to left (each passage still sets its own direction)."""
    d = "rtl" if lang == "ar" else "ltr"
    return f'<div class="{classes}" dir="{d}" lang="{lang_attr(lang)}">{inner}</div>'


class Views:
    """HTML for each part of the page, from plain data and the current index."""

    def __init__(self, service: Service) -> None:
        self.service = service

    # ---------------------------------------------------------------- header and status

    @staticmethod
    def header(lang: str) -> str:
        return (f'<div id="app-header-inner" dir="auto"><h1>{esc(t(lang, "app_title"))}</h1>'
                f'<p>{esc(t(lang, "app_subtitle"))}</p></div>')

    @staticmethod
    def muted(lang: str, key: str) -> str:
        return f'<p class="muted" dir="auto">{esc(t(lang, key))}</p>'

    def status(self, lang: str, timings: dict[str, float] | None = None) -> str:
        s, service = self.service.settings, self.service

        def part(label: str, name: str, state: str, detail: str = "") -> str:
            dot = {"ready": "ok", "loading": "busy", "failed": "bad"}[state]
            text = detail or t(lang, f"status_{state}")
            title = f' title="{esc(service.errors.get(name, ""))}"' if state == "failed" else ""
            return (f'<span class="part"{title}><span class="dot {dot}"></span>'
                    f'{esc(label)}: {esc(text)}</span>')

        llm_name = Path(s.llm).name if not s.llm_endpoint else s.llm_endpoint
        emb_state = service.state("embedder")
        parts = [
            part(f'{t(lang, "status_llm")} {llm_name}', "llm", service.state("llm")),
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
        return panel(lang, "".join(parts), "status-bar")

    @staticmethod
    def notice(message: str) -> str:
        return f'<div class="notice" role="alert" dir="auto">{esc(message)}</div>' \
            if message else ""

    @staticmethod
    def report(lines: list[ReportLine], lang: str, element_id: str = "") -> str:
        """A list of outcomes, one per file (or for the whole batch when the name is empty),
        in the interface's direction; a file name keeps its own inside it."""
        ident = f' id="{esc(element_id)}"' if element_id else ""
        items = "".join(
            "<li class=\"" + cls + "\">"
            + (f'<b dir="auto">{esc(name)}</b>: ' if name else "")
            + f"{esc(message)}</li>" for cls, name, message in lines)
        d = "rtl" if lang == "ar" else "ltr"
        return f'<ul class="report"{ident} dir="{d}" lang="{lang_attr(lang)}">{items}</ul>'

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
            # A finished answer reads in its question's direction (an unverified one quotes
            # Arabic passages under an English statement: each line then sets its own).
            a_dir = text_dir(text) if text.strip() and not answer else \
                ("rtl" if is_rtl(a_lang) else "ltr")
            if text.strip():
                body = render_answer_text(text, citations, link)
            elif status == "waiting":
                body = (f'<p class="waiting">'
                        f'{esc(t(a_lang, "waiting_model", seconds=turn.get("wait", 0)))}</p>')
            else:
                body = f'<p class="waiting">{esc(t(a_lang, "thinking"))}</p>'
            if status == "pending" and text.strip():
                notes.append(("checking", t(a_lang, "checking_note")))
            if status == "done" and turn.get("stopped"):
                notes.append(("warn", t(a_lang, "stopped_by_user")))
            elif status == "done" and answer.get("status") == "unverified":
                notes.append(("warn", t(a_lang, "unverified_note")))
            if status == "done" and answer:
                if answer.get("standalone_question"):
                    notes.append(('', t(a_lang, "rewritten_as",
                                        question=answer["standalone_question"])))
                if answer.get("unsupported") and not answer.get("refused"):
                    notes.append(("warn", t(a_lang, "unsupported_note")))
        provisional = " provisional" if status == "pending" and turn["a"].strip() else ""
        classes = "msg bot" + provisional + (" pending" if status in ("pending", "waiting")
                                             else "") + \
            (" error" if status == "error" else "")
        note_html = "".join(f'<div class="note {cls}" dir="auto">{esc(n)}</div>'
                            for cls, n in notes)
        return (f'<div class="{classes}" dir="{a_dir}" lang="{lang_attr(a_lang)}">'
                f'<div class="who">{esc(t(lang, "assistant"))}</div>'
                f'<div class="body">{body}</div>{note_html}</div>')

    # ---------------------------------------------------------------- sources

    def sources(self, turns: list[dict[str, Any]], lang: str) -> str:
        title = f'<h2>{esc(t(lang, "sources_title"))}</h2>'
        answered = [tn for tn in turns if tn["status"] == "done" and tn.get("answer")]
        if not answered or answered[-1] is not turns[-1]:
            return panel(lang, f'{title}<p class="sources-empty">'
                               f'{esc(t(lang, "sources_empty"))}</p>')
        citations = answered[-1]["answer"].get("citations", [])
        # The passages of an unverified answer support nothing: no "weak support" badges.
        judged = answered[-1]["answer"].get("status") != "unverified"
        if not citations:
            return panel(lang, f'{title}<p class="sources-empty">'
                               f'{esc(t(lang, "sources_none"))}</p>')
        index = self.service.index()
        documents = index.documents if index is not None else {}
        return panel(lang, title + "".join(
            self.source_entry(c, documents.get(c["doc_id"]), lang, judged) for c in citations))

    @staticmethod
    def source_entry(c: dict[str, Any], document: Any, lang: str, judged: bool = True) -> str:
        n = c["number"]
        doc_lang = getattr(document, "language", "") or detect_language(c.get("quote", ""))
        d = "rtl" if is_rtl(doc_lang) else "ltr"
        meta = [c.get("date") or t(lang, "no_date"), c.get("source") or t(lang, "no_source")]
        if document is not None:
            meta.append(document.source_file)
        badge = "" if c.get("supported", True) or not judged else \
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
    def hits(passages: list[dict[str, Any]], lang: str, query: str = "") -> str:
        """Search results, the query's words marked; none means nothing relevant enough."""
        if not passages:
            return panel(lang, f'<p class="sources-empty" id="search-none">'
                               f'{esc(t(lang, "search_none"))}</p>')
        out = []
        for p in passages:
            d = text_dir(p["text"])
            meta = [p.get("date") or t(lang, "no_date"), p.get("source") or t(lang, "no_source"),
                    p.get("source_file", "")]
            # The cosine, comparable across queries (the fused score is relative to the rest).
            score = t(lang, "search_score", score=p["dense_score"]) \
                if p.get("dense_score") is not None else t(lang, "search_word_match")
            out.append(
                f'<article class="source" dir="{d}" lang="{"ar" if d == "rtl" else "en"}">'
                f'<div class="head"><span class="num">{p["rank"]}.</span>'
                f'<span class="title" dir="auto">{esc(p["title"])}</span>'
                f'<span class="score">{esc(score)}</span>'
                f'</div><div class="meta" dir="auto">'
                f'{meta_html(meta)}</div>'
                f'<p class="passage" dir="{d}">'
                f'{mark_words(BLANK_LINES.sub(chr(10), p["text"]), query)}</p></article>')
        return panel(lang, "".join(out), "rag-panel hits")

    # ---------------------------------------------------------------- documents

    def upload_help(self, lang: str) -> str:
        types = " ".join(UPLOAD_TYPES)
        text = esc(t(lang, "upload_help", mb=self.service.uploads.max_mb, types=types))
        text = text.replace(esc(types), f'<span dir="ltr">{esc(types)}</span>')
        return f'<p class="muted" id="upload-help" dir="auto">{text}</p>'

    def file_counts(self, keys: list[str], lang: str) -> str:
        """ "a.txt (2 documents, 7 passages), b.txt (…)": what removing these files (by
        document key) takes."""
        index = self.service.index()
        per_doc = index.chunks_per_document() if index is not None else {}
        out = []
        for key in keys:
            docs = {d.doc_id for d in index.documents.values() if d.key == key} \
                if index is not None else set()
            chunks = sum(per_doc.get(doc_id, 0) for doc_id in docs)
            out.append(t(lang, "file_counts", name=Path(key).name, documents=len(docs),
                         chunks=chunks))
        return "، ".join(out) if lang == "ar" else ", ".join(out)

    def documents(self, lang: str) -> tuple[str, list[tuple[str, str]]]:
        """The table of indexed documents and the (label, file) choices for removal."""
        title = f'<h2>{esc(t(lang, "docs_title"))}</h2>'
        if self.service.state("embedder") == "loading":
            return panel(lang, f'{title}<p class="sources-empty">'
                               f'{esc(t(lang, "docs_loading"))}</p>'), []
        index = self.service.index()
        if index is None or not index.documents:
            return panel(lang, f'{title}<p class="sources-empty">'
                               f'{esc(t(lang, "docs_empty"))}</p>'), []
        per_doc = index.chunks_per_document()
        docs = sorted(index.documents.values(), key=lambda d: (d.source_file, d.doc_id))
        files = {d.key for d in docs}
        columns = ("col_title", "col_date", "col_source", "col_kind", "col_file", "col_chunks")
        head = "".join(f"<th>{esc(t(lang, k))}</th>" for k in columns)
        # Each cell carries its column's name: on a narrow screen a row is shown as a card.
        cell = {k: f' data-label="{esc(t(lang, k))}"' for k in columns}
        rows = []
        for d in docs:
            kind = t(lang, f"kind_{d.kind}") if d.kind in ("article", "teaser") else d.kind
            # Values are isolated (<bdi>) from the panel's direction and from the label a card
            # puts before them: a file name or an ISO date keeps its order in Arabic.
            date = f'<bdi dir="ltr">{esc(d.date)}</bdi>' if d.date else \
                f"<bdi>{esc(t(lang, 'no_date'))}</bdi>"
            rows.append(f'<tr data-file="{esc(d.source_file)}">'
                        f'<td class="title" dir="auto"{cell["col_title"]}>{esc(d.title)}</td>'
                        f'<td{cell["col_date"]}>{date}</td>'
                        f'<td{cell["col_source"]}>'
                        f'<bdi>{esc(d.source or t(lang, "no_source"))}</bdi></td>'
                        f'<td{cell["col_kind"]}><bdi>{esc(kind)}</bdi></td>'
                        f'<td class="file"{cell["col_file"]}>'
                        f'<bdi dir="ltr">{esc(d.source_file)}</bdi></td>'
                        f'<td class="num"{cell["col_chunks"]}>{per_doc.get(d.doc_id, 0)}</td>'
                        f'</tr>')
        count = t(lang, "docs_count", documents=len(docs), files=len(files), chunks=index.size)
        table = panel(lang, f'{title}<p class="muted">{esc(count)}</p><div class="docs-wrap">'
                            f'<table class="docs"><thead><tr>{head}</tr></thead>'
                            f'<tbody>{"".join(rows)}</tbody></table></div>')
        # Removal is by document key (its path): two folders may each hold an "article.txt".
        titles: dict[str, str] = {}
        for d in docs:
            titles.setdefault(d.key, f"{d.source_file} — {d.title[:60]}")
        choices = [(shown(label, one_line=True), key) for key, label in sorted(titles.items())]
        return table, choices

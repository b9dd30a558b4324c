"""Small HTML helpers: escaping, text direction, answer text with linked markers, and the
highlighted passage around a cited sentence. Everything returned is escaped HTML."""

from __future__ import annotations

import html
import re
from typing import Any

from ..citations import MARKER_NUMBERS, marker_numbers
from ..claims import content_words
from ..language import detect_language, is_rtl
from ..untrusted import shown

BLANK_LINES = re.compile(r"\n\s*\n")
WORD = re.compile(r"\w+")
PASSAGE_CONTEXT = 350  # characters shown around a cited sentence in a long paragraph


def esc(text: object) -> str:
    """HTML-escaped, without control or bidi-override characters (rag.untrusted)."""
    return html.escape(shown("" if text is None else str(text)), quote=True)


def text_dir(text: str) -> str:
    return "rtl" if is_rtl(detect_language(text)) else "ltr"


def lang_attr(language: str) -> str:
    return "ar" if language == "ar" else "en"


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
        for n in marker_numbers(match.group(1)):
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

    escaped = MARKER_NUMBERS.sub(marker, esc(text.strip()))
    lines = [line.strip() for line in escaped.splitlines() if line.strip()]
    return "".join(f'<p dir="auto">{line}</p>' for line in lines)


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


def mark_words(text: str, query: str) -> str:
    """Escaped `text` with the words that carry the query's meaning in a <mark class="qw">
    (compared as `content_words` compares them: Arabic normalized and light-stemmed)."""
    wanted = content_words(query)
    if not wanted:
        return esc(text)
    out, last = [], 0
    for m in WORD.finditer(text):
        if content_words(m.group()) & wanted:
            out.append(f'{esc(text[last:m.start()])}<mark class="qw">{esc(m.group())}</mark>')
            last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)

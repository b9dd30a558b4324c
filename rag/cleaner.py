"""Scraped page text -> clean articles: page chrome dropped, "read also" teasers split off.

A saved news page is the article plus navigation, share counters, tag lines and, at the end,
"اقرأ أيضاً" items: other, unrelated articles glued onto the page. Left in, a teaser's facts
would be cited as the host article's, so each becomes its own document (kind="teaser").
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from .language import detect_language
from .metadata import article_metadata, is_metadata_line
from .sentences import split_sentences
from .types import Document

logger = logging.getLogger(__name__)

# A "read also" marker; text after it on the same line means an inline link, not a section.
_READ_ALSO = re.compile(
    r"(?:[إا]قر[أا]\s+(?:[أا]يض\u064b?ا\u064b?|المزيد)|read\s+(?:also|more)"
    r"|related(?:\s+(?:articles|stories|news))?|(?:مواضيع|أخبار|مقالات)\s+ذات\s+صلة)"
    r"\s*[:：]?\s*(.*)",
    re.IGNORECASE,
)
_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"time reading icon.*",
        r".{0,20}دقائق القراءة.{0,20}",
        r"(?:\d+\s*)?(?:min(?:ute)?s?\.?\s+read|دقيقة قراءة|دقائق قراءة).{0,10}",
        r"[\d٠-٩۰-۹][\d٠-٩۰-۹.,]*\s*[km]?",  # share and comment counters
        r"(?:كلمات دلالية|الكلمات المفتاحية|الوسوم|وسوم|tags|keywords)\s*(?:[:：].*)?",
        r"(?:تصنيفات|التصنيفات|categories)\s*(?:[:：].*)?",
        r"إعلان|إعلانات|advertisement|sponsored",
        (
            r"(?:شارك|مشاركة|share|tweet|print|طباعة|facebook|twitter|whatsapp|telegram"
            r"|فيسبوك|تويتر|واتساب)(?:\s+(?:المقال|الخبر|this(?: article)?))?"
        ),
        r".{0,40}(?:آخر تحديث|last updated|updated)\s*[:：].{0,40}",
        r".*related nodes field.*",  # a Drupal template placeholder
        r"يحتوي هذا القسم على .*",
        r"(?:https?://|www\.)\S+",
    )
]
_NAV = r"(?:home|news|world|politics|middle east|الرئيسية|أخبار|الأخبار|عربي|دولي|العالم|سياسة)"
_BREADCRUMB = re.compile(
    rf"^(?:home|الرئيسية)(?:\s*[>»›/|]\s*(?:{_NAV}\b)?|\s+{_NAV}\b)+\s*[>»›/|]?\s*", re.IGNORECASE
)
# An ad slot's label glued to the next paragraph ("إعلانويتناقض"), but not "إعلانات" or "إعلانها".
_GLUED_AD = re.compile(
    r"^إعلان(?=[\u0621-\u064a])"
    r"(?!(?:ات|اتها|اته|اتهم|ه|ها|هم|هما|ي|ية|يا|يات|ين|يون|ك|كم|نا|ا)(?:[^\u0621-\u064a]|$))"
)
_MARKDOWN_HEADING = re.compile(r"#{1,6}\s+")
_LIST_ITEM = re.compile(r"(?:[-*•]|\d{1,2}[.)])\s")
_ENDS_SENTENCE = re.compile(r"[.!?؟:؛;…][\"'”’»)\]]*$")
_NOT_A_HEADING_END = re.compile(r"[.!:؛;…،,][\"'”’»)\]]*$")  # a question can be a headline
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066"
                                    "\u2067\u2068\u2069\ufeff\u00ad"))



@dataclass
class _Line:
    text: str
    heading: bool = False  # was a markdown heading
    meta: bool = False  # a publication-date or source line: metadata, not article text


@dataclass
class _Part:
    """The host article or one teaser, as cleaned lines (None = blank line)."""

    lines: list[_Line | None] = field(default_factory=list)
    raw: str = ""  # before cleaning, to find a date in a line we dropped

    def content(self) -> list[_Line | None]:
        return [ln for ln in self.lines if ln is None or not ln.meta]


class ArticleCleaner:
    """Splits a page into its article and its teasers and cleans each into a Document."""

    def __init__(self, keep_title_only_teasers: bool = False) -> None:
        # A "read also" item with no body is a bare link: no date, no context to cite.
        self.keep_title_only_teasers = keep_title_only_teasers

    def clean(self, text: str, source_file: str, content_hash: str) -> list[Document]:
        host_lines, sections = _split_read_also(_normalize(text).split("\n"))
        documents = []
        host = _clean_part(host_lines)
        if any(host.content()):
            documents.append(_document(host, 0, "article", source_file, content_hash))
        n = 1
        for section in sections:
            for teaser in _split_teasers(_clean_part(section).lines):
                title, *body = [ln for ln in teaser.content() if ln]
                if not body and not self.keep_title_only_teasers:
                    logger.debug("%s: dropped title-only teaser %r", source_file, title.text)
                    continue
                documents.append(_document(teaser, n, "teaser", source_file, content_hash))
                n += 1
        logger.debug("%s: %d documents", source_file, len(documents))
        return documents


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    return re.sub(r"[ \t\u00a0\u2009\u202f]+", " ", text)


def _split_read_also(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """Host lines, and the lines after each standalone "read also" marker."""
    host: list[str] = []
    sections: list[list[str]] = []
    seen_text = 0
    for line in lines:
        stripped = line.strip()
        if seen_text < 3 and stripped:
            stripped = _BREADCRUMB.sub("", stripped, count=1)
            seen_text += 1
        marker = _READ_ALSO.fullmatch(stripped)
        if marker and marker.group(1):
            continue  # "اقرأ أيضاً: <headline>" between paragraphs: a link, the article goes on
        if marker:
            sections.append([])
            continue
        (sections[-1] if sections else host).append(stripped)
    return host, sections


def _clean_part(lines: list[str]) -> _Part:
    part = _Part(raw="\n".join(lines))
    seen: set[str] = set()
    for line in lines:
        if not line:
            part.lines.append(None)
            continue
        line = _GLUED_AD.sub("", line)
        heading = bool(_MARKDOWN_HEADING.match(line))
        line = _MARKDOWN_HEADING.sub("", line, count=1)
        meta = is_metadata_line(line)
        if not meta and any(p.fullmatch(line) for p in _BOILERPLATE):
            continue
        if line in seen:
            continue  # photo captions and titles are often printed twice; once is enough
        seen.add(line)
        part.lines.append(_Line(line, heading, meta))
    return part


def _split_teasers(lines: list[_Line | None]) -> list[_Part]:
    """Cut a "read also" section into items: a headline line, then its body lines.

    A headline-like line starts a new item unless it reads as a subheading of the current
    one: short (under 6 words, no ":" or ".."), after some body, and followed by more body.
    A headline followed by another headline, or by nothing, is a bare link.
    """
    texts = [ln.text for ln in lines if ln and not ln.meta]
    headline = [_looks_like_heading(t) for t in texts] + [True]  # the end acts as a headline
    items: list[_Part] = []
    pending: list[_Line | None] = []  # blank and metadata lines before the first headline
    i = 0
    for line in lines:
        if line is None or line.meta:
            (items[-1].lines if items else pending).append(line)
            continue
        has_body = bool(items) and any(ln for ln in items[-1].content()[1:])
        subheading = (
            has_body
            and not headline[i + 1]
            and len(line.text.split()) < 6
            and not re.search(r":|\.\.| [-|] ", line.text)
        )
        if not items or (headline[i] and not subheading):
            items.append(_Part())
        items[-1].lines.append(line)
        i += 1
    if items:
        items[0].lines[:0] = pending
    for item in items:
        item.raw = "\n".join(ln.text for ln in item.lines if ln)
        while item.lines and item.lines[-1] is None:
            item.lines.pop()
    return items


def _document(part: _Part, n: int, kind: str, source_file: str, content_hash: str) -> Document:
    lines = part.content()
    paragraphs = _paragraphs(lines)
    first = next(ln for ln in lines if ln)
    if first.heading or _looks_like_heading(paragraphs[0]):
        title = paragraphs[0]
    else:
        title = _title_from_lede(paragraphs[0])
    text = "\n\n".join(paragraphs)
    date, source = article_metadata([ln.text for ln in part.lines if ln and ln.meta],
                                    paragraphs, part.raw)
    return Document(
        # The file's hash is in the id: two files of one name in two folders may carry the
        # same "read also" teaser, and each must keep its own document.
        doc_id=f"{source_file}#{n}:"
               f"{hashlib.sha256((content_hash + text).encode('utf-8')).hexdigest()[:12]}",
        source_file=source_file,
        title=title,
        text=text,
        date=date,
        source=source,
        language=detect_language(text),
        content_hash=content_hash,
        kind=kind,
    )


def _paragraphs(lines: list[_Line | None]) -> list[str]:
    """One paragraph per line, except in blocks whose lines are visibly hard-wrapped."""
    paragraphs: list[str] = []
    block: list[_Line] = []
    for line in [*lines, None]:
        if line is not None:
            block.append(line)
            continue
        paragraphs.extend(_unwrap(block) if _is_wrapped(block) else [ln.text for ln in block])
        block = []
    return paragraphs


def _is_wrapped(block: list[_Line]) -> bool:
    # Hard-wrapped text (PDF, plain-text mail) has many lines of similar, bounded length
    # that stop mid-sentence; scraped pages put one paragraph of any length on each line.
    inner = [len(ln.text) for ln in block[:-1]]
    open_lines = [
        len(ln.text) for ln in block[:-1] if len(ln.text) >= 40 and not _ENDS_SENTENCE.search(ln.text)
    ]
    return (
        len(inner) >= 2
        and len(open_lines) >= len(inner) / 2
        and max(inner) <= 200
        and min(open_lines) >= max(inner) / 2
    )


def _unwrap(block: list[_Line]) -> list[str]:
    width = max(len(ln.text) for ln in block)
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for line in block:
        text = line.text
        if line.heading or _LIST_ITEM.match(text) or (
            not current and len(text) < 0.6 * width and not _ENDS_SENTENCE.search(text)
        ):
            flush()  # a heading, list item or short unpunctuated line stands alone
            paragraphs.append(text)
            continue
        if current and current[-1].endswith("-") and text[:1].islower():
            current[-1] = current[-1][:-1] + text  # "exam-" + "ple"
        else:
            current.append(text)
        if _ENDS_SENTENCE.search(text) and len(text) < 0.8 * width:
            flush()  # a short last line ends its paragraph
    flush()
    return paragraphs


def _looks_like_heading(text: str) -> bool:
    return len(text) <= 200 and len(text.split()) <= 25 and not _NOT_A_HEADING_END.search(text)


def _title_from_lede(paragraph: str) -> str:
    # No headline on the page: the lede's first sentence, shortened, is the next best label.
    spans = split_sentences(paragraph)
    sentence = paragraph[spans[0][0] : spans[0][1]] if spans else paragraph
    sentence = sentence.rstrip(".؛:")
    if len(sentence) <= 90:
        return sentence
    cut = sentence.rfind(" ", 0, 90)
    return sentence[: cut if cut > 0 else 90].rstrip("،, ") + "…"



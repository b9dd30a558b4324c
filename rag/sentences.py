"""Sentence spans in Arabic or English text, for chunk boundaries and evidence selection."""

from __future__ import annotations

import re

# A run of terminators with any closing quotes/brackets that belong to the sentence it ends.
_CANDIDATE = re.compile(r"\n+|[.!?؟؛…]+[\"'”’»)\]]*")

# Tokens after which a period is not a full stop ("Mr. Kim", "Jan. 5", "a.m. on").
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs",
    "etc", "e.g", "i.e", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "no",
    "nos", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "a.m", "p.m", "approx", "dept", "est"
})
_INITIALS = re.compile(r"(?:\w\.)*\w")  # "U.S", "أ.ف.ب", a lone initial "J"


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) character spans of the sentences of `text`, stripped of whitespace.

    Boundaries are `.`, `!`, `?`, `؟`, `؛`, `…` and line breaks. A period only ends a sentence
    when whitespace (or the end) follows it, so "3.5" and "reuters.com" stay whole, and not
    after initials or a known abbreviation ("U.S. officials", "Dr. Park"); for those we
    would rather keep two sentences together than cut one in half.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        if not _is_boundary(text, match):
            continue
        end = match.start() if match.group().startswith("\n") else match.end()
        _add_span(text, start, end, spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    run = match.group()
    if run.startswith("\n"):
        return True
    at_end = match.end() == len(text) or text[match.end()].isspace()
    if run[0] in "؟؛":
        return True  # Arabic marks are unambiguous, even when the next word is glued on
    if not at_end:
        return False  # "3.5", "a.b", "?utm_source=" inside URLs
    if run.rstrip("\"'”’»)]") != ".":
        return True  # "!", "?", "...", "؟!"
    before = text[max(0, match.start() - 40) : match.start()].split()
    token = before[-1].lstrip("\"'“‘«([") if before else ""
    if token.lower() in _ABBREVIATIONS or (_INITIALS.fullmatch(token) and not token.isdigit()):
        return False
    # "1. First item" at the start of a line is a list number, not a sentence.
    line_start = text.rfind("\n", 0, match.start()) + 1
    return not (token.isdigit() and text[line_start : match.start()].strip() == token)


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    segment = text[start:end]
    stripped = segment.strip()
    if stripped:
        lead = len(segment) - len(segment.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))

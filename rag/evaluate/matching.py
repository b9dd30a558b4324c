"""Answer matching: does a text say what a gold answer says?

Both sides are normalized with `rag.arabic.normalize` (no diacritics, one alef, ة=ه, ى=ي,
ASCII digits from any digit system, lower case); the Arabic decimal separator becomes ".",
thousands separators between digits are dropped, and the text is split into words and numbers.
A string matches when its words appear consecutively; an Arabic word may carry prefixed
clitics (`rag.arabic.written_forms`: "بالصين" matches "الصين" and "صين") and an English word
a plural "s"/"es". Citation markers like [2] are removed from the answer first.
"""

from __future__ import annotations

import re

from ..arabic import is_arabic, normalize, written_forms
from ..citations import MARKER

_THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d{3}(?!\d))")
_WORD = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")


def match_tokens(text: str) -> list[str]:
    """Words and numbers of `text` in the normalized form that matching compares."""
    text = MARKER.sub(" ", text)
    text = _THOUSANDS.sub("", normalize(text).replace("٫", "."))
    return _WORD.findall(text)


def _forms(word: str) -> set[str]:
    """The words of an answer that count as `word` (a number matches only itself)."""
    if is_arabic(word):
        return written_forms(word)
    if word.isalpha():
        return {word, word + "s", word + "es"}
    return {word}


def contains(words: list[str], expected: str) -> bool:
    """True when the words of `expected` appear consecutively in `words`."""
    wanted = [_forms(word) for word in match_tokens(expected)]
    n = len(wanted)
    return bool(wanted) and any(
        all(words[i + j] in wanted[j] for j in range(n))
        for i in range(len(words) - n + 1))


def missing_parts(text: str, alternatives: list[list[str]]) -> list[str]:
    """[] when an alternative matches `text`, else what the closest alternative lacks."""
    words = match_tokens(text)
    best: list[str] | None = None
    for alternative in alternatives:
        missing = [part for part in alternative if not contains(words, part)]
        if not missing:
            return []
        if best is None or len(missing) < len(best):
            best = missing
    return best or []


def matches(text: str, alternatives: list[list[str]]) -> bool:
    """True when every part of one of the `alternatives` appears in `text`."""
    return bool(alternatives) and not missing_parts(text, alternatives)


def source_matches(doc_id: str, expected: str) -> bool:
    """A doc id matches itself, its file name, and its "file#n" prefix."""
    return expected in (doc_id, doc_id.split("#", 1)[0], doc_id.split(":", 1)[0])

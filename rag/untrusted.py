"""Text from articles and file names is shown, never obeyed.

Before such text reaches a terminal or a page, the characters that would act instead of being
read are taken out: C0/C1 control characters (a terminal's escape sequences can retitle the
window or clear the screen) and the bidi overrides, embeddings and isolates that reorder what
follows ("news\u202efdp.txt" would read "newstxt.pdf"). Arabic's own marks (LRM, RLM, ALM)
only set direction and stay. A line break becomes a space where one line is expected.
"""

from __future__ import annotations

import re

_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(text: str, one_line: bool = False) -> str:
    """`text` with its control and bidi-override characters removed; tabs and line breaks
    kept (as spaces with `one_line`)."""
    text = _ACTIVE.sub("", text)
    return " ".join(text.split()) if one_line else text

"""Untrusted text loses the characters that would act on a terminal or reorder a line."""

import pytest

from rag.untrusted import shown
from rag.web.render import esc


@pytest.mark.parametrize(("text", "expected"), [
    ("title\x1b]0;PWNED\x07", "title]0;PWNED"),  # an escape sequence, disarmed
    ("news\u202efdp.txt", "newsfdp.txt"),  # a right-to-left override
    ("a\u2066b\u2069c\u202ad", "abcd"),  # isolates and embeddings
    ("x\x00y\x9bz", "xyz"),  # NUL and a C1 control
    ("قال\u200f «نعم»\u061c", "قال\u200f «نعم»\u061c"),  # Arabic's own direction marks stay
    ("line one\nline two\ttab", "line one\nline two\ttab"),
])
def test_control_and_override_characters_are_removed(text, expected):
    assert shown(text) == expected


def test_one_line_for_file_names_and_titles():
    assert shown("two\nlines.txt\r", one_line=True) == "two lines.txt"


def test_the_page_escapes_and_disarms():
    assert esc("<b>news\u202efdp.txt</b>") == "&lt;b&gt;newsfdp.txt&lt;/b&gt;"


def test_defanged_text_renders_no_image_link_or_tag():
    from rag.untrusted import defanged

    planted = ("صورة ![صورة](http://127.0.0.1:9/x?data=SECRET) and [here](https://e.com) "
               "<img src=x onerror=alert(1)> <!-- c -->")
    text = defanged(planted)
    for active in ("![", "](", "<img", "<!--", "http://", "https://"):
        assert active not in text, active
    assert "SECRET" in text and "3 < 4" in defanged("3 < 4")  # the words stay readable

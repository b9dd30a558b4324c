"""The app's labels: both languages complete, formattable, and really in their language."""

import re
import string

import pytest

from rag.web.text import LANGUAGES, TEXT, lang_of, t

ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys():
    assert set(LANGUAGES) == set(TEXT)
    assert set(TEXT["en"]) == set(TEXT["ar"])


@pytest.mark.parametrize("key", sorted(TEXT["en"]))
def test_translations_take_the_same_fields(key):
    assert fields(TEXT["en"][key]) == fields(TEXT["ar"][key]), key


@pytest.mark.parametrize("key", sorted(TEXT["ar"]))
def test_arabic_labels_are_arabic(key):
    assert ARABIC_LETTER.search(TEXT["ar"][key]), f"{key!r} is not translated"
    assert TEXT["ar"][key] != TEXT["en"][key]


def test_lang_of_accepts_toggle_values_and_browser_locales():
    assert lang_of("ar") == "ar"
    assert lang_of("ar-EG") == "ar"
    assert lang_of("AR") == "ar"
    assert lang_of("en-US") == "en"
    assert lang_of("fr") == "en"
    assert lang_of(None) == "en"
    assert lang_of("") == "en"


def test_t_formats_and_falls_back():
    assert t("en", "error_too_long", n=2500, limit=2000) == (
        "The question is too long (2,500 characters; the limit is 2,000). "
        "Please ask about one thing at a time.")
    assert "2,500" in t("ar", "error_too_long", n=2500, limit=2000)
    assert t("de", "send") == TEXT["en"]["send"]  # unknown language -> English
    assert t("en", "stage_some new stage") == "stage_some new stage"  # unknown key -> the key

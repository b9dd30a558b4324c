"""English spellings of Arabic names (rag.spellings), against wordfreq's real English list."""

from __future__ import annotations

import pytest

from rag.spellings import attested, fits, respell


@pytest.mark.parametrize(("latin", "arabic", "expected"), [
    ("Peskov", "بيسكوف", True),
    ("Biscoff", "بيسكوف", True),  # fits too: respell chooses by the model's spelling
    ("Pskov", "بيسكوف", False),  # the Arabic writes a vowel after the first consonant
    ("Yonhap", "يونهاب", True),
    ("Ilyushin", "إليوشن", True),
    ("Ireland", "أيرلندا", True),  # a final ا may be Arabic's alone
    ("Jake", "جيك", True),  # ي for the "a" of Jake
    ("Blinken", "بلينكن", True),
    ("Lincoln", "بلينكن", False),  # one consonant apart: the skeleton's "close" is not enough
    ("Creepy", "كيربي", False),
    ("Between", "بوتين", False),
])
def test_a_spelling_fits_the_arabic_consonants_and_vowels(latin, arabic, expected):
    assert fits(latin, arabic) is expected


def test_english_uses_the_names_not_the_model_s_letter_by_letter_spellings():
    assert attested("Peskov") and attested("yonhap")
    assert not attested("Byskov") and not attested("Younihab")


@pytest.mark.parametrize(("name", "arabic", "expected"), [
    ("Younihab", "يونهاب", "Yonhap"),
    ("Dmitri Byskov", "دميتري بيسكوف", "Dmitri Peskov"),  # nearest, then more common
    ("Faganr", "فاغنر", "Wagner"),  # Wagoner is an edit nearer, Wagner far more common
    ("Ilyoshin", "الطائرة إليوشن", "Ilyushin"),  # the Arabic word it renders is found
    ("Peskov", "وبيسكوف", "Peskov"),  # behind a clitic
    ("Shoygu", "شويغو", "Shoygu"),  # a spelling English uses is kept
    ("Garner", "فاغنر", None),  # fits no Arabic word
    ("Yunusah", "يونهاب", None),
])
def test_a_name_is_respelled_as_english_spells_the_arabic(name, arabic, expected):
    assert respell(name, arabic) == expected

"""English spellings of Arabic names (rag.spellings), against wordfreq's real English list."""

from __future__ import annotations

import pytest

from rag.spellings import fits, respell


@pytest.mark.parametrize(("latin", "arabic", "expected"), [
    ("Peskov", "بيسكوف", True),
    ("Biscoff", "بيسكوف", True),  # fits too: respell chooses by the model's spelling
    ("Pskov", "بيسكوف", False),  # the Arabic writes a vowel after the first consonant
    ("Yonhap", "يونهاب", True),
    ("Ilyushin", "إليوشن", True),
    ("Ireland", "أيرلندا", True),  # a final ا may be Arabic's alone
    ("Jake", "جيك", True),  # ي for the "a" of Jake
    ("Shaggy", "شويغو", False),  # each vowel letter needs its own: و and ي, "oi" in Shoigu
    ("Blinken", "بلينكن", True),
    ("Lincoln", "بلينكن", False),  # one consonant apart: the skeleton's "close" is not enough
    ("Creepy", "كيربي", False),
    ("Between", "بوتين", False),
])
def test_a_spelling_fits_the_arabic_consonants_and_vowels(latin, arabic, expected):
    assert fits(latin, arabic) is expected


@pytest.mark.parametrize(("name", "arabic", "expected"), [
    ("Younihab", "يونهاب", "Yonhap"),
    ("Dmitri Byskov", "دميتري بيسكوف", "Dmitri Peskov"),
    ("Faganr", "فاغنر", "Wagner"),  # Wagoner is an edit nearer: the same name, rarer
    ("Ilyoshin", "الطائرة إليوشن", "Ilyushin"),  # the Arabic word it renders is found
    ("Peskov", "وبيسكوف", "Peskov"),  # behind a clitic
    ("Shoygu", "شويغو", "Shoigu"),  # one name's variants: the most frequent
    ("Dmitri Peskov", "دميتري بيسكوف", "Dmitri Peskov"),  # English writes both so: kept
    # The 1.5B model's spelling of ديمتري بيسكوف in the seed set's en-d-peskov: "Biscoff"
    # fits too, but is too rare a word to be taken for a name's spelling
    ("Demetri Biskoff", "ديمتري بيسكوف", "Demetri Peskov"),
    ("Khuan", "خوان", None),  # near Kwon, Conan, Cowan: no telling which
    ("Kim", "كيم", "Kim"),  # "came" fits and is commoner, but the model's spelling is English
    ("Garner", "فاغنر", None),  # fits no Arabic word
    ("Yunusah", "يونهاب", None),
])
def test_a_name_is_respelled_as_english_spells_the_arabic(name, arabic, expected):
    assert respell(name, arabic) == expected

"""Normalization and tokenization of Arabic text for search."""

import pytest

from rag.arabic import g_variants, is_arabic, light_stem, normalize, tokenize, written_forms
from rag.lexical import LexicalIndex


@pytest.mark.parametrize("raw, expected", [
    ("مُحَمَّدٌ", "محمد"),  # tashkeel
    ("الرَّحْمٰن", "الرحمن"),  # shadda + superscript (dagger) alef
    ("جميـــــل", "جميل"),  # tatweel
    ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),  # alef forms
    ("مدرسة", "مدرسه"),  # ta marbuta
    ("مستشفى", "مستشفي"),  # alef maqsura
    ("٢٠٢٤", "2024"),  # Arabic-Indic digits
    ("۱۹۹۰", "1990"),  # Persian digits
    ("NATO و Reuters", "nato و reuters"),  # Latin lowercased
    ("ﻻ", "لا"),  # lam-alef presentation form (NFKC)
    ("كیف", "كيف"),  # Persian ya
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalize_keeps_offsets_irrelevant_text_alone():
    assert normalize("") == ""
    assert normalize("3.5% 🙂") == "3.5% 🙂"


def test_tokenize_strips_article_conjunction_and_short_tokens():
    assert tokenize("والمدرسة في الكتاب") == ["مدرس", "في", "كتاب"]
    assert tokenize("و ب", stem=False) == []  # single letters are dropped
    assert tokenize("عام ٢٠٢٣", stem=False) == ["عام", "2023"]


def test_light_stem_keeps_short_stems_and_latin():
    assert light_stem("الى") == "الى"  # stripping ال would leave one letter
    assert light_stem("reuters") == "reuters"
    assert light_stem("بالمدينه") == "مدين"


def test_same_word_with_and_without_diacritics_tokenizes_the_same():
    assert tokenize("أَعْلَنَتِ الحُكُومَةُ") == tokenize("اعلنت الحكومة")


@pytest.mark.parametrize("a, b", [("شويغو", "شويجو"), ("بيونغ يانغ", "بيونج يانج")])
def test_g_spelling_variants(a, b):
    for ta, tb in zip(tokenize(a), tokenize(b), strict=True):
        assert tb in g_variants(ta)
        assert ta in g_variants(tb)


def test_g_variants_of_plain_word():
    assert g_variants("كتاب") == []
    assert g_variants("گاز") == ["جاز", "غاز"]


def test_shoigu_query_finds_the_other_spelling():
    index = LexicalIndex(["التقى وزير الدفاع الروسي سيرغي شويجو بنظيره", "أخبار الطقس اليوم"])
    assert [row for row, _ in index.search("شويغو", 5)] == [0]
    assert [row for row, _ in index.search("بيونغ يانغ", 5)] == []
    pyongyang = LexicalIndex(["زار الوفد بيونج يانج أمس", "أخبار الطقس"])
    assert [row for row, _ in pyongyang.search("وصل إلى بيونغ يانغ", 5)] == [0]


def test_both_spellings_found_and_the_asked_one_ranks_first():
    index = LexicalIndex(["قال شويجو للصحفيين", "أكد شويغو أن الجيش", "أخبار الطقس اليوم"])
    hits = index.search("شويغو", 5)
    assert [row for row, _ in hits] == [1, 0]
    assert hits[0][1] > hits[1][1]


def test_variants_can_be_switched_off():
    index = LexicalIndex(["غرب المدينة", "جرب الدواء"], variant_weight=0.0)
    assert [row for row, _ in index.search("غرب", 5)] == [0]  # "west" does not match "tried"


def test_written_forms_add_proclitics_with_and_without_the_article():
    forms = written_forms("الصين")
    assert {"الصين", "صين", "بالصين", "للصين", "والصين", "وبالصين", "وصين"} <= forms
    assert "الصيني" not in forms and "صينال" not in forms
    assert written_forms("كيم") >= {"كيم", "وكيم", "فكيم", "بكيم"}
    assert "يم" not in written_forms("كيم")  # only the article is ever dropped
    assert "ل" not in written_forms("ال")  # too short to be an article + word


def test_is_arabic_looks_at_the_first_letter():
    assert is_arabic("صين") and is_arabic("ءامن")
    assert not is_arabic("china") and not is_arabic("2019") and not is_arabic("")

"""Question language: it picks the answer language and prompt, and refuses what is neither."""

from __future__ import annotations

import pytest

from rag.language import SUPPORTED, detect_language, is_rtl, script_counts


@pytest.mark.parametrize("question", [
    "متى وصل كيم جونغ أون إلى روسيا؟",
    "ما هي الأسلحة التي طلبتها موسكو من بيونغ يانغ",
    "مَن هُوَ المُتَحَدِّث؟",  # with diacritics
    "كم عدد الكيانات التي فرضت عليها عقوبات في ٢٠٢٣؟",  # Arabic-Indic digits
])
def test_arabic_questions_are_arabic(question):
    assert detect_language(question) == "ar"


@pytest.mark.parametrize("question", [
    "When did Kim Jong Un arrive in Russia?",
    "what did shoigu ask pyongyang for",
    "Who is the spokesman?",
    "Kim",
])
def test_english_questions_are_english(question):
    assert detect_language(question) == "en"


@pytest.mark.parametrize(("question", "language"), [
    ("ماذا قال John Kirby عن المفاوضات بين روسيا و North Korea؟", "ar"),
    ("هل اجتمع وزراء NATO في بروكسل؟", "ar"),
    ('What does "بيونغ يانغ" mean in the article about Kim?', "en"),
])
def test_mixed_text_goes_by_the_script_with_most_letters(question, language):
    assert detect_language(question) == language


@pytest.mark.parametrize(("question", "language"), [
    ("Quelle est la capitale de la Corée du Nord ?", "fr"),
    ("Pourquoi Kim est-il allé en Russie avec le train ?", "fr"),
    ("¿Quién es el ministro de defensa de Rusia?", "es"),
    ("Wann ist Kim nach Russland gereist und warum?", "de"),
])
def test_other_latin_languages_are_recognised_by_their_common_words(question, language):
    assert detect_language(question) == language
    assert language not in SUPPORTED


def test_one_foreign_word_does_not_make_an_english_question_foreign():
    # "la" and "die" alone are not enough: another language needs two of its words.
    assert detect_language("Who sang La Bamba in the film?") == "en"
    assert detect_language("What is the rock band Die Toten Hosen?") == "en"


@pytest.mark.parametrize(("question", "language"), [
    ("朝鲜领导人什么时候访问俄罗斯？", "cjk"),
    ("金正恩はいつロシアに行きましたか", "cjk"),  # kanji and hiragana count as one script
    ("김정은은 언제 러시아에 갔습니까?", "cjk"),
    ("Когда Ким приехал в Россию?", "cyrillic"),
    ("Πότε έφτασε ο Κιμ στη Ρωσία;", "greek"),
])
def test_other_scripts_are_named_by_their_script(question, language):
    assert detect_language(question) == language
    assert language not in SUPPORTED


@pytest.mark.parametrize("text", ["", "   ", "2023", "١٢٣ ٤٥", "🙂🚀🔥", "?!؟ - 12:30", "[1]"])
def test_text_without_letters_is_answered_in_english(text):
    assert script_counts(text) == {}
    assert detect_language(text) == "en"


def test_only_arabic_is_written_right_to_left():
    assert is_rtl("ar") and not is_rtl("en") and not is_rtl("fr")

"""Which came first: questions split into two events, each dated from its sentence.

Unit tests date hand-made sentences and answer over a stand-in search; the last tests run the
seed set's temporal questions over the real seed index and embedder (no language model: the
settings name a model file that does not exist).
"""

from __future__ import annotations

from datetime import date

import pytest
from test_citations import evidence_from

from rag.assistant import Assistant
from rag.chronology import Chronology, Period, events, period
from rag.config import Settings
from rag.types import Document

PROMPTS = Settings().prompts_dir
SEPT_12 = date(2023, 9, 12)  # a Tuesday


@pytest.mark.parametrize("question, language, expected", [
    ("أيهما كان أولاً: تحذير سوليفان أم زيارة بلينكن إلى سيول؟", "ar",
     ("تحذير سوليفان", "زيارة بلينكن إلى سيول", False)),
    ("أيهما حدث أولاً: رحلة الطائرة إلى بيونغ يانغ أم تصريح شويغو؟", "ar",
     ("رحلة الطائرة إلى بيونغ يانغ", "تصريح شويغو", False)),
    ("هل كانت زيارة بلينكن قبل أم بعد قمة كيم وبوتين؟", "ar",
     ("زيارة بلينكن", "قمة كيم وبوتين", True)),
    ("Which came first: Shoigu's visit to North Korea or Kim's arrival in Russia?", "en",
     ("Shoigu's visit to North Korea", "Kim's arrival in Russia", False)),
    ("Did Blinken's visit to Seoul come before or after the summit?", "en",
     ("Blinken's visit to Seoul", "the summit", True)),
    # The question's own spelling is kept (diacritics, hamza), not the normalized form.
    ("أيهما كان أولاً: تحذيرُ سوليفان أم إعلان بلينكن؟", "ar",
     ("تحذيرُ سوليفان", "إعلان بلينكن", False)),
    ("Who visited North Korea in July?", "en", None),
    ("ما أول دولة زارها بلينكن؟", "ar", None),
    ("أيهما كان أولاً؟", "ar", None),
])
def test_the_two_events_of_an_ordering_question(question, language, expected):
    assert events(question, language) == expected


@pytest.mark.parametrize("sentence, published, expected", [
    # A day, with its year or the article's; Levantine month names after a slash.
    ("طارت الطائرة من موسكو في 31 يوليو/تموز، وعادت في 2 أغسطس/آب.", SEPT_12,
     (date(2023, 7, 31), date(2023, 7, 31), "31 يوليو/تموز")),
    ("The talks were held on 5 September 2021 in Vladivostok.", None,
     (date(2021, 9, 5), date(2021, 9, 5), "5 September 2021")),
    ("The plane landed on July 31.", SEPT_12, (date(2023, 7, 31), date(2023, 7, 31), "July 31")),
    # A month: this year's, or last year's when it is later than the article's month.
    ("زار شويغو كوريا الشمالية في يوليو (تموز) الماضي.", SEPT_12,
     (date(2023, 7, 1), date(2023, 7, 31), "في يوليو (تموز)")),
    ("أجرت كوريا الشمالية تجربة في ديسمبر.", date(2024, 1, 10),
     (date(2023, 12, 1), date(2023, 12, 31), "في ديسمبر")),
    # Relative to the article's date.
    ("قال سوليفان الأسبوع الماضي إن كوريا الشمالية ستدفع الثمن.", SEPT_12,
     (date(2023, 9, 4), date(2023, 9, 10), "الأسبوع الماضي")),
    ("غادر كيم بيونغ يانغ بالقطار بعد ظهر الأحد.", SEPT_12,
     (date(2023, 9, 10), date(2023, 9, 10), "الأحد")),
    ("وصل بلينكن إلى سيول اليوم الخميس في زيارة تستغرق يومين.", date(2023, 11, 9),
     (date(2023, 11, 9), date(2023, 11, 9), "اليوم")),
    ("The ministry said it last month.", SEPT_12,
     (date(2023, 8, 1), date(2023, 8, 31), "last month")),
])
def test_a_sentence_is_dated_by_its_first_time_words(sentence, published, expected):
    assert period(sentence, published, opening=False) == Period(*expected)


def test_the_day_something_was_said_is_not_the_day_it_happened():
    sentence = "وذكرت وسائل الإعلام، الثلاثاء، أن كيم غادر إلى روسيا بالقطار بعد ظهر الأحد."
    assert period(sentence, SEPT_12, opening=False).said == "الأحد"
    # ... unless the event is the statement itself.
    assert period(sentence, SEPT_12, opening=False, statement=True).said == "الثلاثاء"


def test_what_dates_nothing_dates_nothing():
    # "أحد" is "one of", not Sunday; a weekday needs the article's date to mean a day.
    assert period("التقى بلينكن بأحد المشاركين في الاحتجاج.", SEPT_12, opening=False) is None
    assert period("قال شويغو الإثنين إن موسكو تناقش التدريبات.", None, opening=False) is None
    assert period("وصل كيم إلى روسيا.", SEPT_12, opening=False) is None
    assert period("In May 31st of no year.", None, opening=False) is None
    # An article's opening without time words is the news of the week before its date.
    assert period("وصل كيم إلى روسيا.", SEPT_12, opening=True) == \
        Period(date(2023, 9, 5), SEPT_12, "")


def _article(name: str, text: str, published: str) -> Document:
    return Document(doc_id=f"{name}#0:ab", source_file=name, title=name, text=text,
                    date=published)


PLANE = "وقالت الوكالة إن طائرة روسية طارت من موسكو إلى بيونغ يانغ في 31 يوليو/تموز."
SHOIGU = "وفي وقت سابق الإثنين 4 سبتمبر/أيلول، قال شويغو إن موسكو تناقش تدريبات مشتركة."
OTHER = "وأجرت اليابان مناورات بحرية في 1 أغسطس."


@pytest.fixture
def chronology() -> Chronology:
    doc = _article("a.txt", f"{OTHER} {PLANE} {SHOIGU}", "2023-09-05")
    sentences = {s: evidence_from(doc, [s])[0] for s in (PLANE, SHOIGU, OTHER)}

    def search(query: str):  # the stand-in ranks the sentence sharing most words first
        words = set(query.split())
        return sorted(sentences.values(), key=lambda e: -len(words & set(e.text.split())))
    return Chronology(search, PROMPTS)


def test_the_earlier_event_comes_first_with_both_sentences_cited(chronology):
    checked = chronology.answer("أيهما حدث أولاً: تصريح شويغو بأن موسكو تناقش تدريبات "
                                "مشتركة أم رحلة طائرة روسية من موسكو إلى بيونغ يانغ؟", "ar")
    assert checked is not None and not checked.unsupported
    assert checked.text.startswith("رحلة طائرة روسية من موسكو إلى بيونغ يانغ أولاً")
    assert "«31 يوليو/تموز»" in checked.text and "«الإثنين»" in checked.text
    assert [(c.number, c.quote) for c in checked.citations] == [(1, PLANE), (2, SHOIGU)]
    assert "[1]" in checked.text and "[2]" in checked.text


def test_before_or_after_is_answered_first(chronology):
    checked = chronology.answer("هل كان تصريح شويغو بأن موسكو تناقش تدريبات مشتركة قبل أم "
                                "بعد رحلة طائرة روسية إلى بيونغ يانغ؟", "ar")
    assert checked is not None and checked.text.startswith("بعد.")


def test_an_event_is_shown_as_plain_text(chronology):
    checked = chronology.answer("أيهما حدث أولاً: تصريح شويغو بأن موسكو تناقش تدريبات مشتركة "
                                "![x](http://127.0.0.1:9/x) أم رحلة طائرة روسية من موسكو إلى "
                                "بيونغ يانغ؟", "ar")
    assert checked is not None
    assert "![" not in checked.text and "](" not in checked.text and "http://" not in checked.text


def test_no_answer_when_an_event_is_not_found_or_the_dates_do_not_tell(chronology):
    # Nothing names the summit: the question goes the usual way.
    assert chronology.answer("أيهما كان أولاً: قمة كامب ديفيد أم تصريح شويغو بأن موسكو تناقش "
                             "تدريبات مشتركة؟", "ar") is None
    # Both events are the same sentence's: the same day tells nothing.
    assert chronology.answer("أيهما كان أولاً: قال شويغو إن موسكو تناقش تدريبات أم تصريح "
                             "شويغو بأن موسكو تناقش تدريبات مشتركة؟", "ar") is None
    assert chronology.answer("متى طارت الطائرة إلى بيونغ يانغ؟", "ar") is None


@pytest.fixture
def seeds(seed_settings, embedder, tmp_path) -> Chronology:
    """Over the seed index; loading the language model would fail (no such file)."""
    settings = Settings.load(index_dir=seed_settings.index_dir,
                             llm=str(tmp_path / "no-model.gguf"))
    return Assistant(settings, embedder=embedder).chronology


@pytest.mark.parametrize("question, language, first, second", [
    (("أيهما كان أولاً: تحذير سوليفان من أن كوريا الشمالية ستدفع الثمن أم زيارة بلينكن إلى "
      "سيول؟"), "ar", "سوليفان", "نوفمبر"),
    (("أيهما حدث أولاً: رحلة الطائرة الروسية إليوشن إلى بيونغ يانغ أم تصريح شويغو بأن موسكو "
      "تناقش تدريبات مشتركة مع كوريا الشمالية؟"), "ar", "إليوشن", "4 سبتمبر 2023"),
    ("Which came first: Shoigu's visit to North Korea or Kim Jong Un's arrival in Russia?",
     "en", "Shoigu", "12 September 2023"),
    (("Did Blinken's visit to Seoul come before or after Kim and Putin met in Russia's Far "
      "East?"), "en", "After. Kim", "Blinken"),
])
def test_the_seed_articles_order_their_events(seeds, question, language, first, second):
    checked = seeds.answer(question, language)
    assert checked is not None, question
    assert checked.text.index(first) < checked.text.index(second)
    assert [c.number for c in checked.citations] == [1, 2]
    assert checked.citations[0].quote != checked.citations[1].quote

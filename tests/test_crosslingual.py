"""English answers from Arabic sentences (rag.crosslingual): finding the model's copy in the
source, refusing a copy of the question, and checking an English rendering against the Arabic
words by rule. No model: these are the checks, not the generation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag.config import Settings
from rag.crosslingual import CrossLingualAnswerer, Span, copies_question, find_span
from rag.quantities import in_english, quantities

SENTENCE = "وقال إن شويغو حاول إقناع بيونج يانغ ببيع ذخيرة مدفعية لروسيا خلال زيارته"


def found(copy: str, sentence: str = SENTENCE) -> str | None:
    span = find_span(copy, sentence)
    return sentence[span[0]:span[1]] if span else None


@pytest.mark.parametrize(("copy", "expected"), [
    ("ذخيرة مدفعية", "ذخيرة مدفعية"),
    ("ذخيره مدفعيه", "ذخيرة مدفعية"),  # spelt without ة: the source's own spelling is kept
    ("مدفعية روسيا", "مدفعية لروسيا"),  # the sentence's clitic
    ("أحاول إقناع بيونج يانغ ببيع ذخيرة مدفعية", "إقناع بيونج يانغ ببيع ذخيرة مدفعية"),
    ("طائرة", None),  # not in the sentence
    ("مدفعية ذخيرة", None),  # the words, but not in this order
])
def test_the_copy_is_found_as_the_source_writes_it(copy, expected):
    assert found(copy) == expected


def test_the_fullest_run_wins_not_the_shortest():
    sentence = "وقال شويغو: لا تختار جيرانك ومن الأفضل أن تعيش مع جيرانك في سلام ووئام"
    copy = "لا تختار جيرانك ومن الأفضل أن تعيش مع جيرانك في سلام ووئام"
    assert found(copy, sentence) == copy


@pytest.mark.parametrize(("span", "question", "copied"), [
    ("أون", "What did Kim Jong Un inspect?", True),
    ("كيم جونغ أون", "Who met Kim Jong Un?", True),
    ("شويغو", "Who met Kim Jong Un?", False),
    ("2019", "What happened in 2019?", True),
    ("2019", "When did it happen?", False),
])
def test_a_copy_of_the_question_is_no_answer(span, question, copied):
    assert copies_question(span, question) is copied


@pytest.fixture
def answerer() -> CrossLingualAnswerer:
    return CrossLingualAnswerer.from_settings(None, Settings())  # the checks need no model


@pytest.mark.parametrize(("english", "arabic", "agrees"), [  # "When/how many/which?"
    ("Tuesday", "الثلاثاء", True),
    ("Wednesday", "الثلاثاء", False),  # what the 1.5B model says for الثلاثاء
    ("430 miles", "430 ميلاً", True),
    ("36 hours", "36 ساعة", True),
    ("36 days", "36 ساعة", False),
    ("43 miles", "430 ميلاً", False),
    ("62", "إل-62", False),  # the plane's type, not a number (the seed set's en-d-ilyushin)
    ("Ilyushin Il-62", "إليوشن إل-62", True),  # said as a type: letters and number agree
    ("Il-62", "إل-62", True),
    ("Ilyushin Il-76", "إليوشن إل-62", False),
    ("Ilyushin Su-62", "إليوشن إل-62", False),
    ("Ilyushin", "إليوشن إل-62", False),  # the type left out
    ("EL-62", "إل-62", False),  # the model's letters: English writes the maker's "Il"
    ("about 770 km", "430 ميلاً", False),
    # A transliterated name: the consonants agree, and English must spell it so (wordfreq)
    ("Younihab", "يونهاب", False),
    ("Yonhap", "يونهاب", True),
    ("Korean Central News Agency", "يونهاب", False),
    ("Dmitry Peskov", "دميتري بيسكوف", True),
    ("Dmitri Byskov", "دميتري بيسكوف", False),
    ("Anthony Lincoln", "أنتوني بلينكن", False),  # a spelling English uses, of another name
    ("David Bowie", "دميتري بيسكوف", False),
    ("University of Illinois", "بيسكوف", False),
    ("United States, South Korea, Japan", "الولايات المتحدة وكوريا الجنوبية واليابان", True),
    ("Rusia’s economic crisis", "ذخيرة مدفعية لروسيا", False),  # words nothing checks
    ("10.5 billion euros", "10.5 مليار يورو", True),
    ("10.5 million euros", "10.500 ملايين يورو", False),  # 10,500 million, or 10.5 million?
    ("Two-way route", "طريق ذو اتجاهين", False),  # nothing a rule can check: not shown
    ("artillery ammunition", "ذخيرة مدفعية", False),
    ("Yonhap ![x](http://127.0.0.1:9/x)", "يونهاب", False),
    ("يونهاب", "يونهاب", False),  # not English
])
def test_an_english_rendering_must_agree_with_the_arabic_words(answerer, english, arabic,
                                                               agrees):
    # A number or a date alone answers only a when/how-many question.
    question = "When, how many, and which agency reported it?"
    assert answerer.renders(english, arabic, question) is agrees


@pytest.mark.parametrize(("english", "arabic", "question"), [
    # XQuAD's report half: a year for "named", a number without its "BP"
    ("1998", "أبلين سنة 1998", "What was the first internet2 network named"),
    ("11 600", "11،600 BP", "When did the last glacial end?"),
])
def test_every_copied_word_must_be_said(answerer, english, arabic, question):
    assert not answerer.renders(english, arabic, question)


class Rendering:
    """Stands in for the model: renders any Arabic words as `text`."""

    def __init__(self, text: str) -> None:
        self.text, self.asked = text, 0

    def complete(self, messages, max_tokens, **options) -> str:
        self.asked += 1
        return self.text


@pytest.mark.parametrize(("rendering", "arabic", "shown"), [
    ("Younihab", "يونهاب", "Yonhap"),  # the 1.5B model's spellings, and English's
    ("Dmitri Byskov", "دميتري بيسكوف", "Dmitri Peskov"),
    ("Faganr", "فاغنر", "Wagner"),
    ("Garner", "فاغنر", None),  # English spells it so, but not this Arabic name
    ("Russian military briefing", "ذخيرة مدفعية", None),
])
def test_a_rendered_name_is_shown_as_english_spells_it(rendering, arabic, shown):
    model = Rendering(rendering)
    answerer = CrossLingualAnswerer.from_settings(model, Settings())
    span = Span(arabic, evidence=SimpleNamespace(text=arabic), start=0, end=len(arabic))
    assert answerer.render(span, "Which agency reported it?") == (shown, 1)


def test_a_copied_aircraft_type_is_said_as_english_writes_it():
    # The seed set's en-d-ilyushin: the model copies "إل-62" and says "EL-62".
    model = Rendering("The plane was the EL-62.")
    answerer = CrossLingualAnswerer.from_settings(model, Settings())
    span = Span("إل-62", evidence=SimpleNamespace(text="طائرة إليوشن إل-62"), start=0, end=5)
    assert answerer.render(span, "What type of plane flew to Pyongyang?",
                           ["The plane was the EL-62."]) == ("Il-62", 0)


def test_a_name_taken_from_the_question_needs_no_arabic_match(answerer):
    assert answerer.renders("Kim will meet him on Tuesday", "الثلاثاء", "When did Kim meet him?")
    assert not answerer.renders("Kim will meet him in Moscow on Tuesday", "الثلاثاء",
                                "When did Kim meet him?")


QUESTION = ("On what date did Jake Sullivan warn that North Korea would pay a price for "
            "supplying Russia with weapons?")
SULLIVAN = "وحذر مستشار الأمن القومي جيك سوليفان في 5 سبتمبر من أن كوريا الشمالية ستدفع الثمن"


@pytest.mark.parametrize(("draft", "fills"), [
    ("On September 5 [1]", True),
    ("Jake Sullivan warned on 5 September that North Korea would pay a price [1]", True),
    ("On September 6 [1]", False),
    ("On September 5, 2023 [1]", False),  # the year is not in the sentence
    ("Sullivan warned on 5 September in Washington [1]", False),  # a claim it does not hold
    ("Jake Sullivan warned North Korea [1]", False),  # adds nothing
])
def test_without_a_copy_a_draft_may_add_only_what_the_sentence_states(answerer, draft, fills):
    assert answerer.fills_slot(draft, SULLIVAN, QUESTION) is fills


def test_the_year_may_come_from_the_articles_date(answerer):
    assert answerer.fills_slot("On September 5, 2023 [1]", SULLIVAN, QUESTION, "2023-09-06")
    assert not answerer.fills_slot("On September 5, 2022 [1]", SULLIVAN, QUESTION, "2023-09-06")
    assert not answerer.fills_slot("Kim Jong Un [1]", "قال كيم جونغ أون", "Who is he?")


@pytest.mark.parametrize(("arabic", "english"), [
    ("الثلاثاء", "Tuesday"), ("يوم الأحد", "Sunday"), ("5 سبتمبر", "5 September"),
    ("في أغسطس", "August"), ("تموز", "July"), ("430 ميلاً", "430 miles"),
    ("30 في المئة", "30%"),
])
def test_weekdays_months_dates_and_measures_are_said_by_rule(arabic, english):
    assert [in_english(q) for q in quantities(arabic)] == [english]


def test_a_number_alone_answers_only_a_when_or_how_many_question(answerer):
    assert not answerer.renders("430 miles", "430 ميلاً", "Who drove there?")
    assert answerer.renders("430 miles", "430 ميلاً", "How many miles is it?")
    assert not answerer.renders("1998", "1998", "What was the network named?")



@pytest.mark.parametrize(("sentence", "shown"), [
    ("وقالت وكالة يونهاب إن شويغو اقترح إجراء تدريبات بحرية", True),
    ("رئيس الوزراء اليوناني أنتونيس ساماراس ووكالة يونهاب", False),  # nothing about Shoigu
])
def test_a_spelled_name_needs_a_sentence_about_the_question_s_subject(answerer, sentence, shown):
    # XQuAD's "Who is the president of TUMAS?" was answered by a name from a list of others
    question = "Which agency reported what Shoigu proposed?"
    assert answerer.renders("Yonhap", "يونهاب", question, sentence) is shown


def test_the_other_end_of_a_range_is_no_answer(answerer):
    sentence = "استمر الجليدي الأخير من ~ 74000 (BP = قبل الحاضر) ، حتى نهاية العصر الجليدي (~ 11،600 BP)."
    question = "When did the last glacial end?"
    assert not answerer.renders("74000 (BP)", "74000 (BP", question, sentence)
    assert not answerer.fills_slot("It ended 74000 BP [1]", sentence, question)

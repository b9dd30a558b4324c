"""Citations: [n] markers parsed and mapped to evidence, each claim checked against its source.

Unit tests build Evidence by hand and check without an embedder (word overlap only); the
cross-script tests use the real e5 model, since only it can tell an Arabic sentence that says
what an English claim says from one that does not.
"""

from __future__ import annotations

import pytest

from rag.citations import MARKER, CitationChecker, CoverageGate, claims_with_markers
from rag.types import Chunk, Document, Evidence, Passage

EN_TEXT = ("Health minister opens hospital\n"
           "The minister opened a new hospital in Cairo on Monday. "
           "The hospital has two hundred beds and serves half a million people. "
           "Oil prices rose after OPEC decided to cut production.")
AR_TEXT = ("وصل الزعيم الكوري الشمالي كيم جونغ أون إلى مدينة فلاديفوستوك الروسية على متن قطار. "
           "ارتفعت أسعار النفط العالمية بعد قرار أوبك خفض الإنتاج.")

OPENED, BEDS, OIL = ("The minister opened a new hospital in Cairo on Monday.",
                     "The hospital has two hundred beds and serves half a million people.",
                     "Oil prices rose after OPEC decided to cut production.")
ARRIVED, AR_OIL = AR_TEXT.split(". ")[0] + ".", AR_TEXT.split(". ")[1]


def make_checker(embedder=None, **thresholds) -> CitationChecker:
    """The checker with the coverage gate (no verifier model): word coverage in one script,
    the embedding cosine across scripts."""
    return CitationChecker(CoverageGate(embedder, **thresholds))


def evidence_from(doc: Document, sentences: list[str], first: int = 1) -> list[Evidence]:
    """Evidence numbered from `first`, with offsets into the document as the selector makes."""
    chunk = Chunk(chunk_id=0, doc_id=doc.doc_id, text=doc.text, start=0, end=len(doc.text),
                  paragraph=0)
    passage = Passage(chunk=chunk, document=doc, score=1.0, rank=1)
    out = []
    for number, sentence in enumerate(sentences, start=first):
        start = doc.text.index(sentence)
        out.append(Evidence(number=number, text=sentence, start=start,
                            end=start + len(sentence), passage=passage))
    return out


@pytest.fixture
def english() -> list[Evidence]:
    doc = Document(doc_id="cairo.txt#0:ab12", source_file="cairo.txt",
                   title="Health minister opens hospital", text=EN_TEXT, date="2023-09-04",
                   source="Reuters", language="en")
    return evidence_from(doc, [OPENED, BEDS, OIL])


@pytest.fixture
def arabic() -> list[Evidence]:
    doc = Document(doc_id="kim.txt#0:cd34", source_file="kim.txt", title="كيم في روسيا",
                   text=AR_TEXT, date="2023-09-12", source="رويترز")
    return evidence_from(doc, [ARRIVED, AR_OIL])


# ---------------------------------------------------------------------------------- markers


@pytest.mark.parametrize(("answer", "numbers"), [
    ("The hospital has two hundred beds [2].", [2]),
    ("The hospital has two hundred beds [1, 2].", [1, 2]),
    ("The hospital has two hundred beds [1,2].", [1, 2]),
    ("يضم المستشفى مئتي سرير [1، 2].", [1, 2]),  # Arabic comma
    ("يضم المستشفى مئتي سرير [1 ، 2]", [1, 2]),
    ("The hospital has two hundred beds [1][3].", [1, 3]),
    ("The hospital has two hundred beds.", []),
])
def test_markers_are_parsed_with_latin_and_arabic_commas(answer, numbers):
    [(claim, found)] = claims_with_markers(answer)
    assert found == numbers
    assert "[" not in claim and claim.startswith(("The hospital", "يضم"))


def test_brackets_that_are_not_source_numbers_are_not_markers():
    assert not MARKER.search("a list [a, b] and a year [20234]")
    assert [m.group(1) for m in MARKER.finditer("x [12] y [3،4]")] == ["12", "3،4"]


def test_each_sentence_gets_the_markers_that_follow_it():
    claims = claims_with_markers("It opened on Monday [1]. It has two hundred beds [2]. "
                                  "Oil prices rose [3]!")
    assert claims == [("It opened on Monday.", [1]), ("It has two hundred beds.", [2]),
                      ("Oil prices rose!", [3])]


@pytest.mark.parametrize("answer", [
    "It opened on Monday. [1]",
    "It opened on Monday. [1] It has two hundred beds. [2]",
    "It opened on Monday.[1] It has two hundred beds.[2]",
    "It opened on Monday.\n[1]\nIt has two hundred beds.\n[2]",
    "تم افتتاحه يوم الاثنين؟ [1] ويضم مئتي سرير. [2]",
])
def test_a_marker_standing_alone_after_a_sentence_belongs_to_that_sentence(answer):
    claims = claims_with_markers(answer)
    assert claims[0][1] == [1], claims
    assert [numbers for _, numbers in claims[1:]] in ([], [[2]]), claims
    assert all(claim and "[" not in claim for claim, _ in claims)


def test_markers_after_the_full_stop_check_each_claim_against_its_own_source(english):
    # "[1]" after the first full stop cites the first claim, not the second one.
    checked = make_checker().check(
        "The minister opened a new hospital. [1] It has two hundred beds. [2]", english)
    assert checked.text == "The minister opened a new hospital. [1] It has two hundred beds. [2]"
    assert [(c.number, c.supported) for c in checked.citations] == [(1, True), (2, True)]
    # The checked text reads back the same way.
    again = make_checker().check(checked.text, english)
    assert again.text == checked.text and again.citations == checked.citations


def test_markers_pointing_to_no_evidence_are_dropped_from_the_text(english):
    checked = make_checker().check(
        "The hospital has two hundred beds [2, 7]. It serves half a million people [9].",
        english)
    assert checked.text == ("The hospital has two hundred beds. [1] "
                            "It serves half a million people.")
    assert [(c.number, c.quote) for c in checked.citations] == [(1, BEDS)]


def test_citation_carries_the_document_and_the_quoted_span(english):
    checked = make_checker().check("The hospital has two hundred beds [2].", english)
    [c] = checked.citations
    assert (c.number, c.doc_id, c.title, c.date, c.source) == (
        1, "cairo.txt#0:ab12", "Health minister opens hospital", "2023-09-04", "Reuters")
    assert c.quote == BEDS and EN_TEXT[c.start:c.end] == BEDS
    assert c.supported and not checked.unsupported
    # "the hospital has two hundred beds": 6 words, all in the sentence
    assert c.support == 1.0


def test_citations_are_numbered_in_the_order_the_reader_meets_them(english):
    checked = make_checker().check("Oil prices rose after OPEC decided to cut production [3]. "
                                   "The hospital has two hundred beds [2, 3].", english)
    assert checked.text == ("Oil prices rose after OPEC decided to cut production. [1] "
                            "The hospital has two hundred beds. [2] [1]")
    assert [(c.number, c.quote) for c in checked.citations] == [(1, OIL), (2, BEDS)]


# ---------------------------------------------------------------------------------- support


def test_a_claim_whose_words_are_in_the_cited_sentence_is_supported(english):
    checker = make_checker()
    # 4 of the claim's 6 words ("the", "hospital", "has", "beds") are in sentence 2
    checked = checker.check("The hospital has ninety empty beds [2].", english)
    [c] = checked.citations
    assert c.support == pytest.approx(4 / 6, abs=1e-3)
    assert c.support > checker.scorer.lexical_support and c.supported and not checked.unsupported


def test_a_claim_the_cited_sentence_does_not_hold_is_unsupported(english):
    checker = make_checker()
    checked = checker.check("The hospital has two hundred beds [3].", english)  # the oil one
    [c] = checked.citations
    assert (c.number, c.quote) == (1, OIL) and c.support < checker.scorer.lexical_support
    assert not c.supported and checked.unsupported


def test_a_claim_citing_several_sentences_is_supported_if_one_holds_it(english):
    checked = make_checker().check("The hospital has two hundred beds [2, 3].", english)
    supported = {(c.number, c.quote): c.supported for c in checked.citations}
    assert supported == {(1, BEDS): True, (2, OIL): False}
    assert checked.text == "The hospital has two hundred beds. [1] [2]"
    assert not checked.unsupported


def test_the_support_threshold_is_read_from_the_constructor(english):
    answer = "The hospital has ninety empty beds [2]."  # overlap 4/6
    assert make_checker(lexical_support=0.6).check(answer, english).citations[0].supported
    strict = make_checker(lexical_support=0.7).check(answer, english)
    assert not strict.citations[0].supported and strict.unsupported
    # 0 accepts anything cited, 1 accepts only a claim whose every word is in the sentence
    assert not make_checker(lexical_support=0.0).check(
        "Nothing here at all [3].", english).unsupported
    assert make_checker(lexical_support=1.0).check(answer, english).unsupported
    assert not make_checker(lexical_support=1.0).check(
        "The hospital has two hundred beds [2].", english).unsupported


# ---------------------------------------------------------------------------------- no marker


def test_an_answer_without_markers_cites_the_sentence_that_supports_it_best(english):
    checked = make_checker().check("Oil prices rose after the production cut.", english)
    assert checked.text == "Oil prices rose after the production cut. [1]"
    [c] = checked.citations
    assert (c.number, c.quote) == (1, OIL) and c.supported and not checked.unsupported


def test_an_answer_without_markers_that_no_sentence_supports_is_flagged(english):
    checked = make_checker().check("Paris is the capital of France.", english)
    assert checked.text == "Paris is the capital of France."  # nothing added
    assert checked.citations == [] and checked.unsupported


def test_an_answer_whose_markers_are_all_invalid_is_repaired_like_one_without(english):
    checked = make_checker().check("The hospital has two hundred beds [8].", english)
    assert checked.text == "The hospital has two hundred beds. [1]"
    assert [(c.number, c.quote) for c in checked.citations] == [(1, BEDS)]
    assert not checked.unsupported


def test_no_evidence_means_no_citation_and_an_unsupported_answer():
    checked = make_checker().check("The hospital has two hundred beds [1].", [])
    assert checked.text == "The hospital has two hundred beds."
    assert checked.citations == [] and checked.unsupported


# ---------------------------------------------------------------------------------- scripts


@pytest.mark.parametrize("answer", ["3 [1]", "3", "٣ [1]", "3."])
def test_a_number_alone_is_supported_by_the_sentence_that_holds_it(embedder, answer):
    # A digits-only answer has no script: it is checked by words, whatever the evidence's
    # language, and one-digit numbers count as words (search tokens skip them).
    doc = Document(doc_id="s.txt#0:ef56", source_file="s.txt", title="عقوبات",
                   text="فرضت الولايات المتحدة عقوبات على 3 كيانات. وارتفعت أسعار النفط 5%.")
    evidence = evidence_from(doc, ["فرضت الولايات المتحدة عقوبات على 3 كيانات."])
    for checker in (make_checker(), make_checker(embedder)):
        checked = checker.check(answer, evidence)
        assert not checked.unsupported and checked.citations[0].support == 1.0
        assert checker.check(answer.replace("3", "4").replace("٣", "٤"), evidence).unsupported


def test_without_an_embedder_an_english_claim_shares_no_words_with_arabic(arabic):
    checker = make_checker()
    assert checker.scorer.score("Kim Jong Un arrived in Vladivostok by train", ARRIVED) == 0.0
    assert checker.check("Kim Jong Un arrived in Vladivostok by train [1].", arabic).unsupported


def test_an_english_claim_is_scored_against_arabic_by_meaning(embedder, arabic):
    checker = make_checker(embedder)
    claim = "Kim Jong Un arrived in Vladivostok by train"
    same, other = checker.scorer.score(claim, ARRIVED), checker.scorer.score(claim, AR_OIL)
    print(f"\nsimilarity to the sentence that says it {same:.3f}, to an unrelated one "
          f"{other:.3f} (threshold {checker.scorer.dense_support})")
    assert same > other + 0.05
    assert same >= checker.scorer.dense_support > other

    checked = checker.check(f"{claim} [1].", arabic)
    [c] = checked.citations  # the claim is checked as written, with its full stop
    assert c.supported and c.support == pytest.approx(checker.scorer.score(claim + ".", ARRIVED),
                                                      abs=1e-3)
    wrong = checker.check(f"{claim} [2].", arabic)
    assert not wrong.citations[0].supported and wrong.unsupported
    # No marker: the Arabic sentence that says it is found and cited.
    assert checker.check(claim + ".", arabic).text.endswith("[1]")


def test_a_claim_in_the_evidence_script_is_scored_by_words_even_with_an_embedder(embedder,
                                                                                   arabic):
    # Same script: no embedding similarity, so a paraphrase scores by its shared words only.
    checker = make_checker(embedder)
    claim = "وصل كيم إلى فلاديفوستوك"
    assert checker.scorer.score(claim, ARRIVED) == make_checker().scorer.score(claim, ARRIVED) == 1.0
    assert checker.scorer.score("رئيس بلدية باريس", ARRIVED) == 0.0


def test_a_claim_taking_one_fact_from_each_cited_sentence_is_read_against_both(english):
    # Neither sentence alone holds enough of the claim's words; together they do.
    checked = make_checker(lexical_support=0.75).check(
        "The hospital opened on Monday with two hundred beds [1, 2].", english)
    assert not checked.unsupported and [c.supported for c in checked.citations] == [True, True]
    alone = make_checker(lexical_support=0.75).check(
        "The hospital opened on Monday with two hundred beds [1].", english)
    assert alone.unsupported
    uncited = make_checker(lexical_support=0.75).check(
        "The hospital opened on Monday with two hundred beds.", english)
    assert not uncited.unsupported and uncited.text.endswith("[1, 2]")


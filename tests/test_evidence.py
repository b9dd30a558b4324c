"""Evidence sentences: document offsets, stable numbering, merged fragments, size bound."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from fakes import FakeEmbedder

from rag.config import Settings
from rag.evidence import MIN_SENTENCE_CHARS, EvidenceSelector
from rag.types import Chunk, Document, Passage

DOC_A = ("عنوان الخبر\n"
         "القاهرة (رويترز) - أعلنت وزارة الصحة المصرية اليوم افتتاح مستشفى جديد في حي المعادي. "
         "وقال الوزير: "
         "إن المستشفى يضم مئتي سرير ويخدم نصف مليون مواطن. "
         "وتبلغ تكلفة المشروع نحو ثلاثة مليارات جنيه بحسب البيان الرسمي للوزارة. "
         "ومن المنتظر أن يبدأ استقبال المرضى مطلع الشهر المقبل؟ نعم.")
DOC_B = ("ارتفعت أسعار النفط العالمية بعد قرار أوبك خفض الإنتاج بمليون برميل يوميا. "
         "وقال محللون إن الأسعار قد تواصل الصعود خلال الأسابيع المقبلة بسبب نقص الإمدادات.")


def make_selector(embedder=None, **settings) -> EvidenceSelector:
    return EvidenceSelector.from_settings(embedder or FakeEmbedder(), Settings(**settings))


def passage(doc: Document, start: int, end: int, rank: int, chunk_id: int = 0) -> Passage:
    chunk = Chunk(chunk_id=chunk_id, doc_id=doc.doc_id, text=doc.text[start:end], start=start,
                  end=end, paragraph=0)
    return Passage(chunk=chunk, document=doc, score=1.0 / rank, rank=rank)


@pytest.fixture
def docs() -> tuple[Document, Document]:
    return (Document(doc_id="a", source_file="a.txt", title="a", text=DOC_A),
            Document(doc_id="b", source_file="b.txt", title="b", text=DOC_B))


def test_offsets_point_into_the_document(docs):
    a, b = docs
    # a chunk that starts mid-document, so chunk offsets must be added
    passages = [passage(b, 0, len(b.text), 1, 1), passage(a, 12, len(a.text), 2, 0)]
    evidence = make_selector().select("كم سريرا في المستشفى الجديد؟",
                                                       passages, 6)
    assert evidence
    for e in evidence:
        assert e.passage.document.text[e.start:e.end] == e.text
        assert e.text == e.text.strip()


def test_numbering_is_stable_by_passage_rank_then_position(docs):
    a, b = docs
    passages = [passage(b, 0, len(b.text), 1, 1), passage(a, 0, len(a.text), 2, 0)]
    selector = make_selector()
    evidence = selector.select("كم سريرا يضم المستشفى وما سعر النفط؟", passages, 4)
    assert [e.number for e in evidence] == list(range(1, len(evidence) + 1))
    order = [(e.passage.rank, e.start) for e in evidence]
    assert order == sorted(order)
    again = selector.select("كم سريرا يضم المستشفى وما سعر النفط؟", passages, 4)
    assert [(e.number, e.start) for e in again] == [(e.number, e.start) for e in evidence]


def test_best_sentence_is_chosen(docs):
    a, _ = docs
    evidence = make_selector().select(
        "كم تبلغ تكلفة المشروع؟", [passage(a, 0, len(a.text), 1)], 1)
    assert len(evidence) == 1 and "تكلفة المشروع" in evidence[0].text


def test_short_fragments_are_merged(docs):
    a, _ = docs
    evidence = make_selector().select(
        "ماذا قال الوزير عن المستشفى", [passage(a, 0, len(a.text), 1)], 10)
    assert all(len(e.text) >= MIN_SENTENCE_CHARS for e in evidence)
    assert not any(e.text in ("وقال الوزير:", "نعم.", "عنوان الخبر") for e in evidence)
    assert any(e.text.startswith("وقال الوزير:") for e in evidence)  # joined to what follows


def test_overlapping_chunks_do_not_repeat_sentences(docs):
    a, _ = docs
    mid = a.text.index("وتبلغ")
    passages = [passage(a, 0, mid + 40, 1, 0), passage(a, 12, len(a.text), 2, 1)]
    evidence = make_selector().select("المستشفى", passages, 10)
    spans = sorted((e.start, e.end) for e in evidence)
    assert all(e1 <= s2 for (_, e1), (s2, _) in pairwise(spans))


def test_size_is_bounded(docs):
    a, b = docs
    passages = [passage(a, 0, len(a.text), 1, 0), passage(b, 0, len(b.text), 2, 1)]
    embedder = FakeEmbedder()
    evidence = make_selector(embedder, evidence_max_tokens=25).select("المستشفى والنفط", passages, 6)
    tokens = sum(embedder.count_tokens(e.text) for e in evidence)
    assert 1 <= len(evidence) <= 6
    assert tokens <= 25 or len(evidence) == 1
    assert len(make_selector(embedder).select("المستشفى", passages, 2)) == 2


def test_sentence_vectors_are_cached(docs):
    a, _ = docs
    embedder = FakeEmbedder()
    selector = make_selector(embedder)
    passages = [passage(a, 0, len(a.text), 1)]
    selector.select("المستشفى", passages, 3)
    first = len(embedder.embedded)
    selector.select("تكلفة المشروع", passages, 3)
    assert len(embedder.embedded) == first


def test_nothing_in_nothing_out(docs):
    selector = make_selector()
    assert selector.select("سؤال", [], 6) == []
    a, _ = docs
    assert selector.select("سؤال", [passage(a, 0, len(a.text), 1)], 0) == []


def test_sentence_cut_by_the_chunk_start_is_taken_whole(docs):
    a, _ = docs
    inside = a.text.index("يضم مئتي سرير")  # the chunk starts mid-sentence (overlap)
    evidence = make_selector().select(
        "كم سريرا يضم المستشفى", [passage(a, inside, len(a.text), 1)], 1)
    assert evidence[0].text.startswith("وقال الوزير:")
    assert evidence[0].start < inside
    assert a.text[evidence[0].start:evidence[0].end] == evidence[0].text


def test_unpunctuated_text_is_cut_to_the_chunk():
    words = [f"كلمة{i}" for i in range(400)]
    text = " ".join(words)  # one 2,800-character "sentence"
    doc = Document(doc_id="long", source_file="l.txt", title="l", text=text)
    start, end = text.index("كلمة100 "), text.index("كلمة150 ")
    evidence = make_selector().select("كلمة120", [passage(doc, start, end, 1)], 3)
    assert len(evidence) == 1
    e = evidence[0]
    assert (e.start, e.end) == (start, end - 1)  # the chunk's part, without the trailing space
    assert doc.text[e.start:e.end] == e.text


def test_a_sentence_that_stands_out_comes_alone_and_close_ones_together(docs):
    a, b = docs
    passages = [passage(a, 0, len(a.text), 1, 0), passage(b, 0, len(b.text), 2, 1)]
    question = "How much does the project cost according to the ministry's statement?"
    clear = make_selector(evidence_min_sentences=1, evidence_margin=0.1)
    scores = clear.score(question, clear.units(passages))
    close = int(np.sum(scores >= scores.max() - 0.1))  # the best and those within the margin
    assert 1 <= close < 6 and len(clear.select(question, passages, 6)) == close
    # With no margin, as many sentences as asked.
    assert len(make_selector(evidence_margin=math.inf).select(question, passages, 6)) == 6
    # Never fewer than evidence_min_sentences, however far behind the others score.
    assert len(make_selector(evidence_min_sentences=2, evidence_margin=0.1).select(
        question, passages, 6)) == 2


ENGLISH = Document(doc_id="en", source_file="en.txt", title="en", text=(
    "The bridge is long and it is very old. "
    "Years of delays, lawsuits, strikes, floods and budget fights later, the bridge finally "
    "came open to cars, buses, bicycles and trucks every single day."))


def test_an_english_question_is_matched_token_by_token():
    # One vector per sentence favours the short sentence (the long one's other words dilute
    # it); each question word's best match favours the sentence that holds more of them.
    passages = [passage(ENGLISH, 0, len(ENGLISH.text), 1)]
    question = "When did the bridge open?"
    by_tokens = make_selector(evidence_lexical_weight=0.0).select(question, passages, 1)
    assert "came open" in by_tokens[0].text
    by_vector = make_selector(evidence_lexical_weight=0.0,
                              evidence_token_weight=0.0).select(question, passages, 1)
    assert by_vector[0].text == "The bridge is long and it is very old."


def test_an_arabic_question_spares_the_token_vectors(docs):
    a, _ = docs
    embedder = FakeEmbedder()
    asked: list[str] = []
    embed_tokens = embedder.embed_tokens
    embedder.embed_tokens = lambda texts: asked.extend(texts) or embed_tokens(texts)
    make_selector(embedder).select("كم سريرا يضم المستشفى", [passage(a, 0, len(a.text), 1)], 3)
    assert asked == []
    make_selector(embedder).select("How many beds?", [passage(a, 0, len(a.text), 1)], 3)
    assert asked


def test_an_arabic_question_keeps_the_fewest_sentences(docs):
    a, b = docs
    passages = [passage(a, 0, len(a.text), 1, 0), passage(b, 0, len(b.text), 2, 1)]
    question = "كم تبلغ تكلفة المشروع بحسب البيان الرسمي للوزارة؟"
    selector = make_selector(evidence_min_sentences=2, evidence_margin=math.inf)
    assert len(selector.select(question, passages, 6)) == 2

import math
import random
import re
from itertools import pairwise
from pathlib import Path

import pytest

from rag.chunker import Chunker, split_sentences
from rag.cleaner import ArticleCleaner
from rag.types import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def words(text: str) -> int:
    return len(text.split())


def subwords(text: str) -> int:
    # Roughly how a subword tokenizer behaves: long words cost several tokens.
    return sum(math.ceil(len(w) / 4) for w in text.split())


COUNTERS = [words, subwords]


@pytest.fixture(scope="module")
def documents():
    docs = []
    for path in sorted(SEEDS.glob("*.txt")):
        docs += ArticleCleaner().clean(path.read_text("utf-8"), path.name, "h")
    return docs


def _doc(text: str) -> Document:
    return Document(doc_id="d#0:x", source_file="d", title="t", text=text)


def _paragraph_of(text: str, offset: int) -> int:
    ends = 0
    for i, paragraph in enumerate(text.split("\n\n")):
        ends += len(paragraph) + 2
        if offset < ends:
            return i
    raise AssertionError("offset beyond text")


def _check(document: Document, chunks, count, limit: int) -> None:
    text = document.text
    covered = bytearray(len(text))
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert chunk.doc_id == document.doc_id
        assert chunk.paragraph == _paragraph_of(text, chunk.start)
        assert count(chunk.text) <= limit, (count(chunk.text), chunk.text)
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    uncovered = "".join(ch for ch, hit in zip(text, covered, strict=True) if not hit)
    assert not uncovered.strip(), "text lost between chunks"
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


@pytest.mark.parametrize("count", COUNTERS)
@pytest.mark.parametrize(("size", "overlap"), [(160, 24), (60, 10), (20, 5), (8, 0)])
def test_offsets_and_limits_over_the_corpus(documents, count, size, overlap):
    chunker = Chunker(count, chunk_tokens=size, overlap_tokens=overlap)
    next_id = 7
    for document in documents:
        chunks = chunker.split(document, next_id)
        assert [c.chunk_id for c in chunks] == list(range(next_id, next_id + len(chunks)))
        next_id += len(chunks)
        _check(document, chunks, count, size)


def test_default_size_keeps_short_paragraphs_together(documents):
    chunks = Chunker(words).split(documents[0], 0)
    assert len(chunks) == 4  # about 480 words in 21 paragraphs
    assert chunks[0].text.startswith(documents[0].title + "\n\n")
    assert "واشنطن-رويترز\n\nقال جون كيربي" in chunks[0].text


def test_consecutive_chunks_of_a_long_paragraph_overlap(documents):
    long_paragraph = max(
        (p for d in documents for p in d.text.split("\n\n")), key=lambda p: len(p.split())
    )
    assert words(long_paragraph) > 50
    chunks = Chunker(words, chunk_tokens=20, overlap_tokens=5).split(_doc(long_paragraph), 0)
    assert len(chunks) >= 3
    for before, after in pairwise(chunks):
        assert after.start < before.end, "no overlap"
        shared = long_paragraph[after.start : before.end]
        assert 1 <= words(shared) <= 5
        assert before.text.endswith(shared) and after.text.startswith(shared)


def test_no_overlap_across_a_paragraph_boundary():
    text = "\n\n".join(" ".join(f"w{p}x{i}" for i in range(10)) + "." for p in range(4))
    chunks = Chunker(words, chunk_tokens=15, overlap_tokens=4).split(_doc(text), 0)
    assert [c.paragraph for c in chunks] == [0, 1, 2, 3]
    assert [c.text for c in chunks] == text.split("\n\n")


def test_sentence_boundaries_preferred_over_commas():
    text = "أولا، ثانيا، ثالثا كلمات. رابعا، خامسا، سادسا كلمات؟ سابعا ثامنا."
    chunks = Chunker(words, chunk_tokens=5, overlap_tokens=0).split(_doc(text), 0)
    assert [c.text for c in chunks] == [
        "أولا، ثانيا، ثالثا كلمات.", "رابعا، خامسا، سادسا كلمات؟", "سابعا ثامنا."
    ]


def test_unbreakable_run_is_cut_by_characters():
    text = "x" * 300
    chunks = Chunker(len, chunk_tokens=50, overlap_tokens=0).split(_doc(text), 0)
    assert "".join(c.text for c in chunks) == text
    assert all(len(c.text) <= 50 for c in chunks)


def test_empty_document_has_no_chunks():
    assert Chunker(words).split(_doc(""), 0) == []


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_invalid_sizes_rejected(size, overlap):
    with pytest.raises(ValueError):
        Chunker(words, chunk_tokens=size, overlap_tokens=overlap)


VOCABULARY = [
    "كوريا", "الشمالية،", "روسيا.", "بوتين؟", "U.S.", "3.5", "10.500", "said,", "Kim", "(AFP)",
    "“quote”.", "؛", "!", "x" * 30, "٢٠٢٣", "—", "e.g.", "a", "و", "\u200c", "…",
]
SEPARATORS = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\n\n\n", " \n", "\t", ". ", "؟ "]


@pytest.mark.parametrize("seed", range(25))
def test_offsets_property_on_random_text(seed):
    rng = random.Random(seed)
    parts = []
    for _ in range(rng.randint(0, 400)):
        parts += [rng.choice(VOCABULARY), rng.choice(SEPARATORS)]
    text = "".join(parts)
    size = rng.randint(3, 80)
    overlap = rng.randint(0, size - 1)
    count = rng.choice(COUNTERS)
    document = _doc(text)
    _check(document, Chunker(count, size, overlap).split(document, 0), count, size)


def test_split_sentences_examples():
    text = "قال كيربي: لا؟ هؤلاء جيراننا. The U.S. said 3.5 percent! Done\nسطر جديد"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "قال كيربي: لا؟", "هؤلاء جيراننا.", "The U.S. said 3.5 percent!", "Done", "سطر جديد"
    ]


def test_split_sentences_keeps_abbreviations_numbers_and_quotes():
    text = 'Dr. Park met Mr. Kim at 9 a.m. today. He said "stop." Then he left… وقال؛ انتهى'
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Dr. Park met Mr. Kim at 9 a.m. today.", 'He said "stop."', "Then he left…",
        "وقال؛", "انتهى",
    ]


def test_split_sentences_over_the_corpus(documents):
    for document in documents:
        spans = split_sentences(document.text)
        assert spans
        previous_end = 0
        for start, end in spans:
            sentence = document.text[start:end]
            assert start >= previous_end and sentence == sentence.strip() and sentence
            assert "\n" not in sentence
            previous_end = end
        joined = "".join(document.text[a:b] for a, b in spans)
        assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", document.text)
    spain = next(d for d in documents if "10.500" in d.text)
    (amount,) = [spain.text[a:b] for a, b in split_sentences(spain.text) if "10.500" in spain.text[a:b]]
    assert amount.startswith("وقال زعيم") and amount.endswith("من الداخل\".")

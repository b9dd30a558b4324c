"""Citations that can be trusted: parse [n] markers, map them to passages, check support.

A small model drops markers, invents numbers, or cites the wrong sentence. Each marker is
checked against the evidence it names: markers that point to nothing are dropped, and each
claim is scored against its cited sentence by a `SupportScorer` (the claim verifier in the
app, rag.verifier). When the model cites nothing, the evidence sentence that best supports
the answer is cited instead, if it supports it well enough; otherwise the answer is flagged
as unsupported. Citations are renumbered 1..n in the order the reader meets them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .arabic import normalize, tokenize
from .embedder import Embedder
from .language import arabic_share
from .types import Citation, Evidence

# "[2]", "[1, 3]", "[1،3]": the numbers a claim cites.
MARKER_NUMBERS = re.compile(r"\[(\d{1,3}(?:\s*[,،]\s*\d{1,3})*)\]")
MARKER = re.compile(r"\s*" + MARKER_NUMBERS.pattern)  # with the space before it
# "... in 2023. (1)": the 1.5B model sometimes marks a source in parentheses at a claim's end.
_PAREN_MARKER = re.compile(r"\s*\((\d{1,2})\)(?=\s*[.!?؟]?\s*(?:$|\n))")
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
# Markers written after the full stop ("Claim. [1] Next claim."), moved in front of it.
_MARKERS_AFTER_END = re.compile(r"([.!?؟])((?:" + MARKER.pattern + r")+)")
_NUMBER = re.compile(r"\d+")


@dataclass
class CheckedAnswer:
    text: str  # the answer with invalid markers removed and repaired markers added
    citations: list[Citation]
    unsupported: bool


def bracketed(text: str) -> str:
    """`text` with a source number in parentheses at the end of a line written as a marker."""
    return _PAREN_MARKER.sub(r" [\1]", text)


class SupportScorer(Protocol):
    """How well a sentence supports a claim (0..1), and the score it must reach."""

    def score(self, claim: str, sentence: str, question: str = "") -> float: ...

    def threshold(self, claim: str, sentence: str) -> float: ...


class CoverageGate:
    """The support check the claim verifier (rag.verifier) replaced: the share of the claim's
    words in the sentence when both share a script, else the embedding cosine. Kept for unit
    tests without models and as the baseline the verifier is measured against."""

    def __init__(self, embedder: Embedder | None = None, lexical_support: float = 0.34,
                 dense_support: float = 0.85) -> None:
        self.embedder = embedder  # None: word overlap only, for every script
        self.lexical_support = lexical_support
        self.dense_support = dense_support

    def score(self, claim: str, sentence: str, question: str = "") -> float:
        lexical = word_coverage(claim, sentence)
        if self.embedder is None or not different_scripts(claim, sentence):
            return lexical
        vectors = self.embedder.embed_passages([claim, sentence])
        return max(lexical, float(np.dot(vectors[0], vectors[1])))

    def threshold(self, claim: str, sentence: str) -> float:
        if self.embedder is not None and different_scripts(claim, sentence):
            return self.dense_support
        return self.lexical_support


class CitationChecker:
    def __init__(self, scorer: SupportScorer) -> None:
        self.scorer = scorer

    def check(self, answer: str, evidence: list[Evidence], question: str = "") -> CheckedAnswer:
        """The answer with its markers checked; `question` lets the scorer refuse a claim that
        only restates it."""
        by_number = {e.number: e for e in evidence}
        claims = claims_with_markers(answer)
        text_parts, cited = [], {}
        for claim, numbers in claims:
            valid = [n for n in numbers if n in by_number]
            text_parts.append(claim + "".join(f" [{n}]" for n in valid))
            scores = {n: self.scorer.score(claim, by_number[n].text, question) for n in valid}
            if len(valid) > 1 and not any(
                    s >= self.scorer.threshold(claim, by_number[n].text) for n, s in scores.items()):
                # One fact from each ("36 hours and 430 miles [1, 2]"): read them together.
                joined = " ".join(by_number[n].text for n in valid)
                scores = dict.fromkeys(valid, self.scorer.score(claim, joined, question))
            for n, score in scores.items():
                cited[n] = max(cited.get(n, 0.0), score)
        text = " ".join(p.strip() for p in text_parts if p.strip())
        if not cited and evidence and text:
            best, score = self._best_support(text, evidence, question)
            if score >= self.scorer.threshold(text, best[0].text):
                text = text.rstrip() + " [" + ", ".join(str(e.number) for e in best) + "]"
                cited |= dict.fromkeys((e.number for e in best), score)
        # Numbered 1..n in the order the reader meets them, not by the evidence's numbers.
        order = {n: i for i, n in enumerate(_cited_in_order(text), start=1)}
        text = MARKER_NUMBERS.sub(lambda m: "[" + ", ".join(
            str(order[n]) for n in marker_numbers(m.group(1))) + "]", text)
        citations = sorted((citation(by_number[n], order[n], s,
                                     s >= self.scorer.threshold(text, by_number[n].text))
                            for n, s in cited.items()), key=lambda c: c.number)
        return CheckedAnswer(text, citations, unsupported=not any(c.supported for c in citations))

    def _best_support(self, text: str, evidence: list[Evidence],
                      question: str) -> tuple[list[Evidence], float]:
        """The sentence that best supports an answer citing none; if none does, the best
        two read together ("36 ساعة و430 ميلاً": one number from each)."""
        scored = [([e], self.scorer.score(text, e.text, question)) for e in evidence]
        best = max(scored, key=lambda pair: pair[1])
        if best[1] >= self.scorer.threshold(text, best[0][0].text):
            return best
        pairs = [([a, b], self.scorer.score(text, f"{a.text} {b.text}", question))
                 for a, b in itertools.combinations(evidence, 2)]
        return max([best, *pairs], key=lambda pair: pair[1])

def citation(e: Evidence, number: int, support: float, supported: bool) -> Citation:
    """The citation, numbered `number`, of an evidence sentence."""
    doc = e.passage.document
    return Citation(number=number, doc_id=doc.doc_id, title=doc.title, date=doc.date,
                    source=doc.source, quote=e.text, start=e.start, end=e.end,
                    support=round(float(support), 3), supported=supported)


def _cited_in_order(text: str) -> list[int]:
    numbers = (n for m in MARKER_NUMBERS.finditer(text) for n in marker_numbers(m.group(1)))
    return list(dict.fromkeys(numbers))


def marker_numbers(inside: str) -> list[int]:
    """The numbers inside one marker's brackets: "2" -> [2], "1, 3" or "1،3" -> [1, 3]."""
    return [int(n) for n in re.split(r"\s*[,،]\s*", inside)]


def claims_with_markers(answer: str) -> list[tuple[str, list[int]]]:
    """Split the answer into sentences, each with the marker numbers that follow it."""
    out: list[tuple[str, list[int]]] = []
    answer = _MARKERS_AFTER_END.sub(r"\2\1", answer.strip())
    for sentence in _SENTENCE_END.split(answer):
        numbers = [n for m in MARKER.finditer(sentence) for n in marker_numbers(m.group(1))]
        claim = MARKER.sub("", sentence).strip()
        if claim:
            out.append((claim, numbers))
        elif out and numbers:  # a marker standing alone belongs to the sentence before it
            out[-1][1].extend(numbers)
    return out


def word_coverage(claim: str, sentence: str) -> float:
    """Share of the claim's normalized words that the sentence holds."""
    claim_words = _words(claim)
    if not claim_words:
        return 0.0
    return len(claim_words & _words(sentence)) / len(claim_words)


def _words(text: str) -> set[str]:
    # Search tokens skip one-character words, but "3" is a whole answer ("على 3 كيانات").
    return set(tokenize(text)) | set(_NUMBER.findall(normalize(text)))


def different_scripts(a: str, b: str) -> bool:
    """True if one is mostly Arabic letters and the other mostly Latin; a text of digits and
    symbols alone ("3", "2019") is in both scripts."""
    shares = [arabic_share(a), arabic_share(b)]
    if None in shares:
        return False
    return (shares[0] > 0.5) != (shares[1] > 0.5)

"""Citations that can be trusted: parse [n] markers, map them to passages, check support.

A small model drops markers, invents numbers, or cites the wrong sentence. Each marker is
checked against the evidence it names: markers that point to nothing are dropped, and each
claim is scored against its cited sentence (lexical overlap on normalized words, and for
answers in another language than the evidence, the embedding similarity). When the model
cites nothing, the evidence sentence that best supports the answer is cited instead, if it
supports it well enough; otherwise the answer is flagged as unsupported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .arabic import normalize, tokenize
from .config import Settings
from .embedder import Embedder
from .language import arabic_share
from .types import Citation, Evidence

# "[2]", "[1, 3]", "[1،3]": the numbers a claim cites.
MARKER_NUMBERS = re.compile(r"\[(\d{1,3}(?:\s*[,،]\s*\d{1,3})*)\]")
MARKER = re.compile(r"\s*" + MARKER_NUMBERS.pattern)  # with the space before it
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
# Markers written after the full stop ("Claim. [1] Next claim."), moved in front of it.
_MARKERS_AFTER_END = re.compile(r"([.!?؟])((?:" + MARKER.pattern + r")+)")
_NUMBER = re.compile(r"\d+")

@dataclass
class CheckedAnswer:
    text: str  # the answer with invalid markers removed and repaired markers added
    citations: list[Citation]
    unsupported: bool


class CitationChecker:
    def __init__(self, embedder: Embedder | None, *, lexical_support: float,
                 dense_support: float) -> None:
        self.embedder = embedder  # None: word overlap only, for every script
        self.lexical_support = lexical_support
        self.dense_support = dense_support

    @classmethod
    def from_settings(cls, embedder: Embedder | None, settings: Settings) -> CitationChecker:
        return cls(embedder, lexical_support=settings.lexical_support,
                   dense_support=settings.dense_support)

    def check(self, answer: str, evidence: list[Evidence]) -> CheckedAnswer:
        by_number = {e.number: e for e in evidence}
        claims = _claims_with_markers(answer)
        text_parts, cited = [], {}
        for claim, numbers in claims:
            valid = [n for n in numbers if n in by_number]
            text_parts.append(claim + "".join(f" [{n}]" for n in valid))
            for n in valid:
                score = self.support(claim, by_number[n].text)
                cited[n] = max(cited.get(n, 0.0), score)
        text = " ".join(p.strip() for p in text_parts if p.strip())
        if not cited and evidence and text:
            best, score = self._best_support(text, evidence)
            if score >= self._threshold(text, best.text):
                text = text.rstrip() + f" [{best.number}]"
                cited[best.number] = score
        citations = [self._citation(by_number[n], s, s >= self._threshold(text, by_number[n].text))
                     for n, s in sorted(cited.items())]
        return CheckedAnswer(text, citations, unsupported=not any(c.supported for c in citations))

    def support(self, claim: str, sentence: str) -> float:
        """0..1: how much of the claim's content the sentence holds."""
        lexical = word_coverage(claim, sentence)
        if self.embedder is None or not _different_scripts(claim, sentence):
            return lexical
        vectors = self.embedder.embed_passages([claim, sentence])
        return max(lexical, float(np.dot(vectors[0], vectors[1])))

    def _threshold(self, claim: str, sentence: str) -> float:
        if self.embedder is not None and _different_scripts(claim, sentence):
            return self.dense_support
        return self.lexical_support

    def _best_support(self, text: str, evidence: list[Evidence]) -> tuple[Evidence, float]:
        scored = [(e, self.support(text, e.text)) for e in evidence]
        return max(scored, key=lambda pair: pair[1])

    @staticmethod
    def _citation(e: Evidence, score: float, supported: bool) -> Citation:
        doc = e.passage.document
        return Citation(number=e.number, doc_id=doc.doc_id, title=doc.title, date=doc.date,
                        source=doc.source, quote=e.text, start=e.start, end=e.end,
                        support=round(score, 3), supported=supported)


def _claims_with_markers(answer: str) -> list[tuple[str, list[int]]]:
    """Split the answer into sentences, each with the marker numbers that follow it."""
    out: list[tuple[str, list[int]]] = []
    answer = _MARKERS_AFTER_END.sub(r"\2\1", answer.strip())
    for sentence in _SENTENCE_END.split(answer):
        numbers = [int(n) for m in MARKER.finditer(sentence)
                   for n in re.split(r"\s*[,،]\s*", m.group(1))]
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


def _different_scripts(a: str, b: str) -> bool:
    """True if one is mostly Arabic letters and the other mostly Latin; a text of digits and
    symbols alone ("3", "2019") is in both scripts."""
    shares = [arabic_share(a), arabic_share(b)]
    if None in shares:
        return False
    return (shares[0] > 0.5) != (shares[1] > 0.5)

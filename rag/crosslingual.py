"""English answers from Arabic sentences: copy the Arabic words that answer, find them in the
source, say them in English, and check the English against them.

The 1.5B model misreads Arabic when it must answer in English, and a short English claim cannot
be checked against a long Arabic sentence as a whole (on the seed set 1 English answer of 26
could be verified). Copying is easier for it than translating, and a copy can be checked
exactly: its words must be in the cited sentence, and not only the question's. The model then
answers in English as the next turn of the same conversation (llama.cpp reads only that turn),
and the English must agree with the copied words by rule: the same numbers, dates and weekdays
(rag.quantities), names with the same consonant skeleton (rag.claims) in a spelling English
uses (rag.spellings: the model writes بيسكوف as "Byskov", which becomes "Peskov"). While it
does not, the copied words are said in English by rule (weekdays, months, dates, measures) or
by the model (greedy, then sampled), each checked the same way. The reader gets the English
and the source's own words: "Tuesday («الثلاثاء») [1]". What has no name or quantity to check
("artillery ammunition") is not shown as an answer: the sentence holding the copied words
leads the quoted passages instead.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .arabic import normalize, written_forms
from .chat_model import ChatModel
from .citations import MARKER, MARKER_NUMBERS, marker_numbers
from .claims import (
    align_names,
    arabic_skeleton,
    claim_names,
    content_words,
    latin_skeleton,
    translated,
)
from .config import Settings
from .language import arabic_share
from .prompts import Prompt, load_prompt
from .quantities import in_english, quantities, quantities_supported, supports
from .spellings import respell
from .types import Evidence
from .untrusted import defanged, has_markup
from .verifier import WANTS_QUANTITY, other_end

_WORD = re.compile(r"\w+")
_DESIGNATION = re.compile(r"([^\W\d_]+)\s?-\s?(\d+)")  # a type or model: "إل-62", "سو-35"
# How English writes the makers' letters of Russian aircraft types (normalized Arabic).
_MAKERS = {"ال": "Il", "سو": "Su", "تو": "Tu", "ميغ": "MiG", "مي": "Mi", "كا": "Ka",
           "ياك": "Yak", "ان": "An"}
_NOT_FOUND = re.compile(r"NOT[\s_]?FOUND", re.IGNORECASE)


@dataclass
class Span:
    """The Arabic words that answer, exactly as the cited sentence writes them."""

    text: str
    evidence: Evidence
    start: int  # offsets in evidence.text
    end: int


def find_span(copy: str, sentence: str, min_share: float = 0.75) -> tuple[int, int] | None:
    """Where the sentence says what `copy` says: the run of the sentence's words that holds
    most of the copy's words in order (at least `min_share`; the shortest of equals) (a word may be misspelt or
    missing, a clitic added: "لروسيا" for "روسيا"). None if there is none, or only one much
    longer than the copy."""
    wanted = [normalize(w) for w in _WORD.findall(copy)]
    words = [(m.start(), m.end(), normalize(m.group())) for m in _WORD.finditer(sentence)]
    if not wanted or not words:
        return None
    need = max(1, math.ceil(min_share * len(wanted)))
    best: tuple[int, int, int] | None = None  # first word, last word, words found
    for i in range(len(words)):
        found, j, first, last = 0, i, None, None
        for w in wanted:  # in order; a sentence word may be skipped between two matches
            end = len(words) if first is None else min(len(words), j + 2)
            k = next((k for k in range(j, end) if _same(w, words[k][2])), None)
            if k is None or (first is None and k != i):
                continue
            found, j, last = found + 1, k + 1, k
            first = k if first is None else first
        fits = found >= need and first is not None and last - first < len(wanted) + 2
        if fits and (best is None or (found, first - last) > (best[2], best[0] - best[1])):
            best = (first, last, found)
    if best is None:
        return None
    return words[best[0]][0], words[best[1]][1]


def _same(a: str, b: str) -> bool:
    return a == b or b in written_forms(a) or a in written_forms(b)


def copies_question(span: str, question: str) -> bool:
    """True when the span names nothing the question does not: each of its words is a
    transliteration of one of the question's words ("أون" for "Un") or a number it asks."""
    asked = {latin_skeleton(w) for w in _WORD.findall(question) if w.isascii()}
    asked_numbers = quantities(question)
    for word in _WORD.findall(normalize(span)):
        if word.isdigit():
            if not any(q.value == word for q in asked_numbers):
                return False
            continue
        skeleton = arabic_skeleton(word)
        if skeleton and skeleton in asked:
            continue
        return False
    return True


class CrossLingualAnswerer:
    """For an English question over Arabic evidence: the Arabic span that answers, and an
    English rendering of it that checks out."""

    def __init__(self, model: ChatModel, prompts_dir: Path, *,
                 renderings: int, temperature: float, seed: int) -> None:
        self.model = model
        self.prompts_dir = prompts_dir
        self.renderings = renderings  # the greedy one, then sampled ones
        self.temperature = temperature
        self.seed = seed

    @classmethod
    def from_settings(cls, model: ChatModel, settings: Settings) -> CrossLingualAnswerer:
        return cls(model, settings.prompts_dir, renderings=settings.renderings,
                   temperature=settings.draft_temperature, seed=settings.seed)

    def extract(self, question: str, prompt: Prompt) -> tuple[Span | None, Prompt]:
        """The Arabic words that answer, as the model copied them (`prompt` was built for
        "extract"), if they are in the sentence it cites (or, citing none, in one of the
        sentences) and not only the question's; and the prompt whose next turn asks for the
        English answer: llama.cpp then reads only that turn, not the evidence again."""
        copy = self.model.complete(prompt.messages, max_tokens=48, temperature=0.0)
        # Defanged: the prompt is returned with the answer (API, --json) and shown.
        messages = [*prompt.messages, {"role": "assistant", "content": defanged(copy)},
                    {"role": "user", "content": load_prompt(self.prompts_dir, "say", "en")}]
        span = self._span(copy, question, prompt.evidence)
        return span, Prompt(messages, prompt.tokens, prompt.evidence)

    def _span(self, copy: str, question: str, evidence: list[Evidence]) -> Span | None:
        if _NOT_FOUND.search(copy) or has_markup(copy):
            return None
        cited = {n for m in MARKER_NUMBERS.finditer(copy) for n in marker_numbers(m.group(1))}
        words = MARKER.sub(" ", copy).strip().strip("\"'«»“”.،,:")
        share = arabic_share(words)
        if not words or (share is None or share < 0.5) and not re.search(r"\d", words):
            return None  # an English "answer" instead of a copy
        for e in sorted(evidence, key=lambda e: (e.number not in cited, -e.score)):
            found = find_span(words, e.text)
            if found:
                text = e.text[found[0]:found[1]]
                if copies_question(text, question):
                    return None
                return Span(text, e, *found)
        return None

    def render(self, span: Span, question: str,
               candidates: Sequence[str] = ()) -> tuple[str | None, int]:
        """The first English text that says what the span says: of `candidates` (the draft
        already written), then of the model's renderings, greedy first, then sampled; and
        how many renderings the model was asked for."""
        messages = [{"role": "system", "content": load_prompt(self.prompts_dir, "render", "en")},
                    {"role": "user", "content": f"{span.text} ->"}]
        tried: set[str] = set()
        asked = [0]

        def rendered(n: int) -> str:
            asked[0] += 1
            return self.model.complete(messages, max_tokens=40, seed=self.seed + n,
                                       temperature=0.0 if n == 0 else self.temperature)

        # A weekday, month, date or measure is said by rule: the model reads "الثلاثاء"
        # (Tuesday, from "three") as Wednesday.
        stated = sorted(quantities(span.text), key=str)
        by_rule = [" ".join(in_english(q) for q in stated)] \
            if stated and len(_WORD.findall(span.text)) <= 3 else []
        if (m := _DESIGNATION.fullmatch(span.text.strip())) and \
                (maker := _MAKERS.get(normalize(m.group(1)))):
            by_rule = [f"{maker}-{m.group(2)}"]  # "إل-62" is the Il-62
        texts = itertools.chain(candidates, by_rule,
                                (rendered(n) for n in range(self.renderings)))
        for text in texts:  # a generator: renderings are asked for only while none agrees
            text = _respelled(" ".join(MARKER.sub("", text).split()).strip(" \"'"), span.text)
            if text and text not in tried:
                tried.add(text)
                if self.renders(text, span.text, question, span.evidence.text):
                    return text, asked[0]
        return None, asked[0]

    def fills_slot(self, english: str, sentence: str, question: str, dated: str = "") -> bool:
        """Whether a draft answers a "when"/"how many" question with only what the Arabic
        `sentence` states: "On 5 September [1]" for "On what date did Sullivan warn...?".
        Used when the model's copy could not be found in the sentences. A name is not enough:
        that the sentence names someone does not make him the answer ("Kim Jong Un is the
        president of South Korea" cited a sentence naming Kim). `dated`: the article's date,
        whose year a sentence's "5 سبتمبر" leaves unsaid ("September 5, 2023")."""
        if not WANTS_QUANTITY.search(question):
            return False
        plain = _without_compounds(MARKER.sub(" ", english))
        if other_end(plain, sentence, question):
            return False
        said = quantities(plain) - quantities(question)
        stated = quantities(sentence) | quantities(dated[:4])
        return bool(said) and all(any(supports(h, q) for h in stated) for q in said) \
            and not _unchecked_words(plain, question, names=[])

    def renders(self, english: str, arabic: str, question: str = "",
                sentence: str = "") -> bool:
        """Whether `english` says what the Arabic words say, by rule: no markup and no Arabic
        letters in it; its numbers, dates and weekdays are the Arabic's, and the Arabic's are
        in it; its names not taken from the question align with the Arabic and are ones Arabic
        translates ("South Korea", "the G7": rag.claims' table), or written in the Arabic as
        they are, or spelled as English spells them (rag.spellings: "Peskov", not the model's
        "Byskov") in a sentence that names one of the question's names; and it adds no other
        word to the question's.

        Left unchecked, and so never shown as an answer: words with no name or quantity
        ("artillery ammunition"): neither the embedding model's token alignment nor its cosine
        separated right from wrong renderings (0.82-0.92 for both), nor did translating back."""
        if has_markup(english) or (arabic_share(english) or 0.0) > 0.2:
            return False
        # "إل-62" is a name with a number: said as "Il-62", checked apart from the rest.
        if (without := _said_designations(english, arabic)) is None:
            return False
        designated = (english, arabic) != without
        english, arabic = without
        plain = _without_compounds(english)
        if sentence and other_end(plain, sentence, question):
            return False  # "74000" for when the glacial ended, "from ~74000 until ~11,600"
        stated, said = quantities(arabic), quantities(plain)
        if stated and not said or said and quantities_supported(plain, arabic) != 1.0:
            return False
        asked = {w.lower() for w in _WORD.findall(question)}
        # "Never choose your neighbours": a capital that only opens a sentence is no name
        opening = re.match(r"\s*([A-Z]\w*) [a-z]", english)
        matches = align_names(plain, arabic)
        names = [m for m in matches
                 if not all(w.lower() in asked for w in m.name.split())
                 and not (opening and m.name == opening.group(1))]
        if not all(m.aligned and (translated(m.name) or m.matched == m.name
                                  or respell(m.name, m.matched) == m.name) for m in names) \
                or not (names or said or designated):
            return False
        if not WANTS_QUANTITY.search(question) and not (names or designated):
            return False  # a number or a date alone for a what/who question ("1998" for "named")
        spelled = [m for m in names if not translated(m.name) and m.matched != m.name]
        if spelled and sentence and not _names_the_subject(question, sentence):
            return False
        rendered = content_words(" ".join(m.matched or "" for m in matches))
        left = [w for w in _WORD.findall(arabic) if not quantities(w)
                and content_words(w) - rendered - _AR_UNITS]
        return not left and not _unchecked_words(plain, question, names=[m.name for m in names])


# Words that come with a quantity ("10.5 billion euros", "36 hours") and need no check of their
# own: the number is checked.
_UNITS = {"percent", "per", "cent", "times", "euros", "euro", "dollars", "dollar", "pounds",
          "yuan", "won", "rubles", "roubles", "miles", "mile", "kilometres", "kilometers", "km",
          "metres", "meters", "tons", "tonnes", "hours", "hour", "days", "day", "weeks", "week",
          "months", "month", "years", "year", "minutes"}


# The Arabic words for those, and Latin letters ("11،600 BP") are words to say too.
_AR_UNITS = content_words("ساعة ساعات يوم أيام أسبوع أسابيع شهر أشهر شهور سنة سنوات عام أعوام "
                          "ميل أميال ميلا كيلومتر كيلومترات كم متر أمتار طن أطنان دولار دولارات "
                          "يورو مليون ملايين مليار ألف آلاف المئة بالمئة مرة مرات نحو حوالي قرابة")


def _said_designations(english: str, arabic: str) -> tuple[str, str] | None:
    """`english` and `arabic` without their designations when the English says each of the
    Arabic's with its number and with letters of the same consonants, as English writes a
    maker's ("إل-62" as "Il-62", not "EL-62"); None when one is missing or different."""
    for m in list(_DESIGNATION.finditer(arabic)):
        letters, number = m.groups()
        sounds = latin_skeleton(letters) if letters.isascii() else \
            arabic_skeleton(normalize(letters))
        maker = _MAKERS.get(normalize(letters), "").lower()
        said = next((e for e in _DESIGNATION.finditer(english) if e.group(1).isascii()
                     and e.group(2) == number and latin_skeleton(e.group(1)) == sounds
                     and e.group(1).lower() == (maker or e.group(1).lower())), None)
        if said is None:
            return None
        english = english.replace(said.group(0), " ", 1)
        arabic = arabic.replace(m.group(0), " ", 1)
    return english, arabic


def _respelled(english: str, arabic: str) -> str:
    """`english` with each name the model transliterated letter by letter in the spelling
    English uses, where one fits the Arabic ("Byskov" -> "Peskov", rag.spellings)."""
    for name in claim_names(english):
        if not translated(name) and (better := respell(name, arabic)) and better != name:
            english = re.sub(rf"\b{re.escape(name)}\b", better, english)
    return english


def _names_the_subject(question: str, sentence: str) -> bool:
    """Whether the sentence names one of the names the question names (if it names any): a
    person's name copied from a sentence about someone else answers nothing ("Antonis Samaras",
    from "رئيس الوزراء اليوناني أنتونيس ساماراس", for "Who is the president of TUMAS?")."""
    matches = align_names(question, sentence)
    return not matches or any(m.aligned for m in matches)


def _without_compounds(english: str) -> str:
    """"two-way", "one-sided": a number word inside a compound is no quantity."""
    return re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", "", english)


def _unchecked_words(english: str, question: str, names: list[str]) -> list[str]:
    """The words of `english` that carry meaning and that neither the question, nor its
    checked names, nor its quantities account for."""
    known = {w.lower() for w in _WORD.findall(question + " " + " ".join(names))}
    known |= content_words(question) | _UNITS
    return [w for w in _WORD.findall(english)
            if w.lower() not in known and not quantities(w) and content_words(w) - known]

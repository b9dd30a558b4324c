"""Which came first: the two events of a question, each dated from the sentence reporting it.

"أيهما كان أولاً: تحذير سوليفان … أم زيارة بلينكن إلى سيول؟" needs two dates from two
articles, one of them relative ("الأسبوع الماضي" in an article of 12 September): the 1.5B
model answered none of these questions. Here the question is split into its two events; each
is searched like a question of its own, and the best sentence that names the event and says
when it happened gives its period, read relative to the article's date:

- a day ("31 يوليو/تموز", "5 September 2023"), a month ("في يوليو/تموز الماضي"), a weekday
  ("الإثنين": the last one on or before the article's date), "today", "yesterday", "last
  week/month/year";
- no time words, in the article's opening: the news of its date (the week before it).

The earlier event wins when the two periods do not overlap; the answer quotes each sentence's
time words and cites it. Otherwise (an event not found, undated, or overlapping) the question
goes the usual way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from .arabic import normalize
from .citations import CheckedAnswer, citation
from .claims import align_names, content_words
from .prompts import load_prompt
from .quantities import MONTHS, WEEKDAYS
from .types import Evidence
from .untrusted import defanged
from .verifier import SAID_WHEN, SAYING

# "أيهما كان أولاً: A أم B؟", "Which came first: A or B?", "Did A come before or after B?"
_FIRST_AR = re.compile(r"^\s*(?:و|ف)?ايهما\s+(?:كان|حدث|جاء|وقع|تم)\s+(?:اولا|قبل|الاول)\s*[:،,]?\s*"
                       r"(?P<a>.+?)\s+ام\s+(?P<b>.+?)\s*[؟?]?\s*$")
_FIRST_EN = re.compile(r"^\s*which\s+(?:came|happened|was|occurred|took place)\s+(?:first|"
                       r"earlier)\s*[:,]?\s*(?P<a>.+?),?\s+or\s+(?P<b>.+?)\s*\??\s*$",
                       re.IGNORECASE)
_BEFORE_AFTER_EN = re.compile(r"^\s*(?:did|was|were)\s+(?P<a>.+?)\s+(?:come|happen|take place|"
                              r"occur)?\s*before\s+or\s+after\s+(?P<b>.+?)\s*\??\s*$",
                              re.IGNORECASE)
_BEFORE_AFTER_AR = re.compile(r"^\s*هل\s+(?:كان|كانت|حدث|حدثت|جاء|جاءت|وقع|وقعت|تم|تمت)\s+"
                              r"(?P<a>.+?)\s+قبل\s+ام\s+بعد\s+(?P<b>.+?)\s*[؟?]?\s*$")

_MONTH_NAMES = {"ar": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
                       "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
                "en": ["January", "February", "March", "April", "May", "June", "July",
                       "August", "September", "October", "November", "December"]}


@dataclass(frozen=True)
class Period:
    """When an event happened, as closely as its sentence says, and the words that say it."""

    start: date
    end: date
    said: str  # the sentence's time words; "" when dated by the article alone

    def before(self, other: Period) -> bool:
        return self.end < other.start


@dataclass(frozen=True)
class DatedEvent:
    name: str  # the event as the question words it
    period: Period
    evidence: Evidence


def events(question: str, language: str) -> tuple[str, str, bool] | None:
    """(event a, event b, asked "before or after" rather than "which first") or None."""
    text = normalize(question) if language == "ar" else question
    for pattern, before_after in ((_FIRST_AR, False), (_BEFORE_AFTER_AR, True),
                                  (_FIRST_EN, False), (_BEFORE_AFTER_EN, True)):
        if m := pattern.match(text):
            a, b = m.group("a").strip(" ،,:"), m.group("b").strip(" ،,:")
            if language == "ar":  # the question's own spelling, not the normalized one
                a, b = _original(question, a), _original(question, b)
            return (a, b, before_after) if a and b else None
    return None


def _original(question: str, normalized: str) -> str:
    """The words of `question` whose normalized form is `normalized` (normalizing keeps the
    words apart, so the span has as many words)."""
    words = question.split()
    plain = [normalize(w) for w in words]
    n = len(normalized.split())
    for i in range(len(words) - n + 1):
        if " ".join(plain[i:i + n]).strip(" ،,:؟?") == normalized:
            return " ".join(words[i:i + n]).strip(" ،,:؟?")
    return normalized


_NUM = r"(\d{1,2})"
_YEAR = r"(?:\s+(?:عام\s+)?(\d{4}))?"
_MONTH_WORDS = "|".join(sorted((re.escape(m.replace("_", " ")) for m in MONTHS), key=len,
                               reverse=True))
_MONTH = rf"(?:ال)?({_MONTH_WORDS})\b(?:\s*[/(]\s*(?:{_MONTH_WORDS})\b\s*\)?)?"
_TIMES = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in (
    ("day", rf"\b{_NUM}\s+(?:من\s+)?{_MONTH},?{_YEAR}"),
    ("day", rf"\b{_MONTH}\s+{_NUM}\b(?:,?\s+(\d{{4}}))?"),
    ("month", rf"\b(?:في|خلال|شهر|منذ|in|during|since)\s+{_MONTH}{_YEAR}"),
    ("today", r"(?:\bاليوم\b|\btoday\b)"),
    ("yesterday", r"(?:\bامس\b|\byesterday\b)"),
    ("last_week", r"(?:\bالاسبوع الماضي\b|\blast week\b)"),
    ("last_month", r"(?:\bالشهر الماضي\b|\blast month\b)"),
    # Arabic weekdays with their article: a bare "احد" is "one" ("أحد المشاركين").
    ("weekday", r"\b(?:يوم\s+)?(" + "|".join(WEEKDAYS) + r")\b"),
)]
# An event that is itself a statement is dated by when it was said.
_STATEMENT = re.compile(r"(^|\s)[وف]?(?:ال)?(تصريح|تصريحات|تحذير|اعلان|قول|بيان|افاده|مؤتمر)|"
                        r"\b(statement|warning|announcement|remarks?|comments?|claims?|"
                        r"briefing|press conference)\b", re.IGNORECASE)


def period(sentence: str, published: date | None, opening: bool,
           statement: bool = False) -> Period | None:
    """When the sentence says its event happened (its first time words), read relative to
    the article's `published` date; an `opening` sentence without time words is the news of
    the article's date. None when neither says. Unless the event is a `statement`, the day
    something was said ("وقالت الوزارة، الإثنين، إن …") is not the event's."""
    text = normalize(sentence)
    said = [] if statement else [m.span(1) for m in SAID_WHEN.finditer(text)]
    found = sorted(((m.start(), kind, m) for kind, p in _TIMES for m in p.finditer(text)
                    if not any(s <= m.start() < e for s, e in said)), key=lambda t: t[0])
    for _, kind, m in found:
        if (p := _read(kind, m, published)) is not None:
            return replace(p, said=_source_words(sentence, *m.span()))
    if opening and published and not found:
        return Period(published - timedelta(days=7), published, "")
    return None


def _source_words(sentence: str, start: int, end: int) -> str:
    """The sentence's own text of the normalized span [start, end) (normalizing drops
    diacritics, so offsets differ)."""
    origin = [i for i, ch in enumerate(sentence) for _ in normalize(ch)]
    if not origin or start >= len(origin):
        return ""
    return sentence[origin[start]:origin[min(end, len(origin)) - 1] + 1].strip(" ،,")


def _read(kind: str, m: re.Match, published: date | None) -> Period | None:
    said = m.group(0).strip()
    if kind in ("day", "month"):
        groups = [g for g in m.groups() if g]
        month = next(MONTHS.get(g.lower().replace(" ", "_")) for g in groups
                     if not g.isdigit())
        year = next((int(g) for g in groups if g.isdigit() and len(g) == 4), None)
        if year is None:
            if published is None:
                return None
            # "في يوليو" in an article of September is this year's July; of January, last
            # year's.
            year = published.year - (month > published.month)
        if kind == "month":
            last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
            return Period(date(year, month, 1), last, said)
        day = int(next(g for g in groups if g.isdigit() and len(g) <= 2))
        try:
            return Period(date(year, month, day), date(year, month, day), said)
        except ValueError:
            return None
    if published is None:
        return None
    if kind == "today":
        return Period(published, published, said)
    if kind == "yesterday":
        return Period(published - timedelta(days=1), published - timedelta(days=1), said)
    if kind == "last_week":
        monday = published - timedelta(days=published.weekday() + 7)
        return Period(monday, monday + timedelta(days=6), said)
    if kind == "last_month":
        end = published.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end, said)
    word = m.group(1).lower()
    weekday = WEEKDAYS.get(word) or WEEKDAYS.get("ال" + word)
    if weekday is None:
        return None
    back = (published.isoweekday() - weekday) % 7
    day = published - timedelta(days=back)
    return Period(day, day, said)


def names_event(event: str, sentence: str, language: str) -> bool:
    """True when the sentence names the event: half of an English event's names align with
    it ("Blinken's visit to Seoul" in "زيارة بلينكن لكوريا الجنوبية"), or half of an Arabic
    event's content words are in it."""
    if language == "en":
        matches = align_names(event[0].upper() + event[1:], sentence)
        return bool(matches) and sum(m.aligned for m in matches) >= len(matches) / 2
    wanted = content_words(event)
    have = content_words(sentence)
    hits = sum(1 for w in wanted if any(h.startswith(w) or w.startswith(h) for h in have
                                          if min(len(h), len(w)) >= 3) or w in have)
    return bool(wanted) and hits >= len(wanted) / 2


def _published(evidence: Evidence) -> date | None:
    try:
        return date.fromisoformat(evidence.passage.document.date)
    except ValueError:
        return None


def _opening(evidence: Evidence) -> bool:
    """The title or the first paragraphs: where a news article says what it reports (the
    seed articles' leads end within ~1,000 characters)."""
    return evidence.start < 1000


def _spoken(p: Period, language: str) -> str:
    months = _MONTH_NAMES[language]
    if p.start == p.end:
        day = f"{p.start.day} {months[p.start.month - 1]} {p.start.year}"
    elif p.start.day == 1 and (p.end + timedelta(days=1)).day == 1 and p.start.month == p.end.month:
        day = f"{months[p.start.month - 1]} {p.start.year}"
    else:
        day = (f"{p.start.day}–{p.end.day} {months[p.end.month - 1]} {p.end.year}"
               if p.start.month == p.end.month else
               f"{p.start.day} {months[p.start.month - 1]} – {p.end.day} "
               f"{months[p.end.month - 1]} {p.end.year}")
    if p.said:
        return f"«{p.said}»، {day}" if language == "ar" else f"«{p.said}», {day}"
    # Dated by its article alone: the period ends on the article's date.
    when = f"{p.end.day} {months[p.end.month - 1]} {p.end.year}"
    return f"خبر بتاريخ {when}" if language == "ar" else f"reported on {when}"


class Chronology:
    """Answers "which came first" from two dated sentences, or returns None.

        chronology = Chronology(ranked_sentences, prompts_dir)
        checked = chronology.answer("Which came first: A or B?", "en")
    """

    def __init__(self, search: Callable[[str], list[Evidence]], prompts_dir: Path,
                 candidates: int = 8) -> None:
        self.search = search  # a query's evidence sentences, best first
        self.prompts_dir = prompts_dir
        self.candidates = candidates

    def date(self, event: str, language: str) -> DatedEvent | None:
        """The event's period from the best sentence that names it and says when."""
        plain = normalize(event)
        statement = bool(_STATEMENT.search(plain) or SAYING.search(plain))
        for e in self.search(event)[:self.candidates]:
            if not names_event(event, e.text, language):
                continue
            if (p := period(e.text, _published(e), _opening(e), statement)) is not None:
                return DatedEvent(event, p, e)
        return None

    def answer(self, question: str, language: str) -> CheckedAnswer | None:
        asked = events(question, language)
        if asked is None:
            return None
        a, b, before_after = asked
        dated = [self.date(a, language), self.date(b, language)]
        if None in dated:
            return None
        first, second = dated
        if second.period.before(first.period):
            first, second = second, first
        elif not first.period.before(second.period):
            return None  # the same days, or overlapping: the sentences can't tell
        template = load_prompt(self.prompts_dir, "chronology", language)
        # The events are the question's words, shown back: as plain text, like article text.
        verdict = ""
        if before_after:
            a_first = first.name == a
            verdict = {("ar", True): "قبل. ", ("ar", False): "بعد. ",
                       ("en", True): "Before. ", ("en", False): "After. "}[(language, a_first)]
        text = verdict + template.format(
            first=defanged(first.name[0].upper() + first.name[1:]), second=defanged(second.name),
            first_when=_spoken(first.period, language),
            second_when=_spoken(second.period, language))
        return CheckedAnswer(text.strip(), [citation(first.evidence, 1, 1.0, True),
                                            citation(second.evidence, 2, 1.0, True)],
                             unsupported=False)

"""Offline evaluation: question sets run through the real pipeline, metrics, a regression gate.

Question sets are JSONL (one JSON object a line; blank lines and lines starting with "#" are
skipped) or, when PyYAML is installed, YAML (a list of the same objects). Fields:

    id          unique string
    question    the question as a user would type it
    lang        "ar" or "en"; default: detected from the question
    answers     acceptable answers: each a string, or a list of strings that must ALL appear
                (["Kirby", ["Kim", "Putin"]] accepts "Kirby", or an answer naming Kim and Putin)
    quotes      optional: strings a correct cited sentence contains, in the articles' language
                (for English questions over Arabic articles); default: the answers' strings
    sources     expected documents: a doc id, a file name (any document of that file) or a
                doc id prefix "file#n" (that one document, e.g. a "read also" teaser)
    answerable  default true; false means the right behaviour is to refuse
    tags        free labels, e.g. ["ar", "date"]
    history     follow-ups: earlier [question, answer] pairs of the conversation

Matching (answers and quotes): both sides are normalized with rag.arabic.normalize (no
diacritics, one alef, ة=ه, ى=ي, ASCII digits from any digit system, lower case), thousands
separators between digits are dropped and the text is split into words and numbers. A string
matches when its words appear consecutively; an Arabic word may carry a prefixed clitic
(و ف ب ل ك, ال and their combinations: "بالصين" matches "الصين" and "صين") and an English word
a plural "s"/"es". Citation markers like [2] are removed from the answer first.

Metrics (the denominator of each is in `Report.counts`):

    recall@1, recall@k, mrr   an expected source among the distinct documents of
                              assistant.search(standalone question, k), over answerable items
                              with sources; sources are alternatives (any one counts)
    answer_accuracy           answerable items answered (not refused) with a matching answer
    refusal_accuracy          unanswerable items refused
    wrong_refusal_rate        answerable items refused (lower is better)
    language_match            answers whose detected language is the question's (an answer of
                              digits and symbols alone, "1975 [1]", fits either language)
    cited_answers             answered answerable items with at least one supported citation
    citation_precision        mean over answered answerable items that cite anything of the
                              share of their citations that are correct: the cited document
                              matches an expected source (when the item lists sources) AND the
                              quoted sentence matches one of the item's quote strings
    pass_rate                 items that passed: answerable ones correct, in the question's
                              language and with a supported citation; unanswerable ones refused
    latency_*_p50 / _p95      seconds for retrieval, first token and total (never gated)

Gate: `compare` fails a metric that drops by more than one question's worth (1/n of its own
denominator). Generation is greedy with a fixed seed, but llama.cpp's sums depend on the thread
count and CPU, so one borderline answer can flip between machines; a zero tolerance would make
the gate flaky, while two questions' worth is already a change worth a look. Latency depends
on the machine and its load and is reported only.
"""

from __future__ import annotations

import json
import logging
import random
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .arabic import normalize
from .citations import MARKER
from .config import Settings
from .errors import IndexStoreError, ModelError, RagError
from .language import SUPPORTED, detect_language, script_counts
from .types import Answer, Citation, Passage

if TYPE_CHECKING:
    from .assistant import Assistant

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
XQUAD_SETS = {"xquad-ar": "ar", "xquad-en": "en"}
HIGHER_IS_BETTER = ("pass_rate", "recall@1", "recall@k", "mrr", "answer_accuracy",
                    "refusal_accuracy", "language_match", "cited_answers", "citation_precision")
LOWER_IS_BETTER = ("wrong_refusal_rate",)
NOISE_QUESTIONS = 1  # how many questions' worth a metric may drop before the gate fails
LATENCIES = ("retrieval", "first_token", "total")
LANGUAGE_METRICS = ("pass_rate", "recall@k", "answer_accuracy", "refusal_accuracy",
                    "wrong_refusal_rate", "language_match", "cited_answers", "citation_precision")


class EvaluationError(RagError):
    """A question set or report cannot be read; the message names the line and the field."""


class Pipeline(Protocol):
    """What `evaluate` needs of an Assistant."""

    settings: Settings

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer: ...

    def search(self, query: str, k: int | None = None) -> list[Passage]: ...


# ---------------------------------------------------------------------------- question sets


@dataclass
class Item:
    id: str
    question: str
    lang: str
    answers: list[list[str]]  # alternatives, each a list of parts that must all appear
    sources: list[str] = field(default_factory=list)
    answerable: bool = True
    tags: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)

    @property
    def quote_strings(self) -> list[str]:
        return self.quotes or [part for alternative in self.answers for part in alternative]


_FIELDS = {f.name for f in fields(Item)}


def load_questions(path: str | Path) -> list[Item]:
    """Read and validate a JSONL or YAML question set."""
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"Question set {path} does not exist.")
    raws = _yaml_objects(path) if path.suffix in (".yaml", ".yml") else _jsonl_objects(path)
    items: list[Item] = []
    seen: dict[str, str] = {}
    for where, raw in raws:
        item = parse_item(raw, where)
        if item.id in seen:
            raise EvaluationError(f"{where}: duplicate id {item.id!r} (first at {seen[item.id]}).")
        seen[item.id] = where
        items.append(item)
    if not items:
        raise EvaluationError(f"Question set {path} has no questions.")
    return items


def _jsonl_objects(path: Path) -> list[tuple[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            out.append((f"{path.name}:{n}", json.loads(line)))
        except json.JSONDecodeError as e:
            raise EvaluationError(f"{path.name}:{n}: not valid JSON ({e.msg}, column {e.colno}).")
    return out


def _yaml_objects(path: Path) -> list[tuple[str, Any]]:
    try:
        import yaml
    except ImportError:
        raise EvaluationError("Reading YAML needs PyYAML (pip install pyyaml); "
                              "or write the questions as JSONL.") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise EvaluationError(f"{path.name}: not valid YAML: {e}") from None
    if isinstance(data, dict) and "questions" in data:
        data = data["questions"]
    if not isinstance(data, list):
        raise EvaluationError(f"{path.name}: expected a list of questions.")
    return [(f"{path.name} item {i}", raw) for i, raw in enumerate(data, start=1)]


def parse_item(raw: Any, where: str) -> Item:
    """One validated item; `where` ("file:line") starts every error message."""
    def fail(message: str) -> EvaluationError:
        return EvaluationError(f"{where}: {message}")

    if not isinstance(raw, dict):
        raise fail("expected an object with id, question, answers, ...")
    if unknown := sorted(set(raw) - _FIELDS):
        raise fail(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))}).")
    for name in ("id", "question"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise fail(f"field {name!r} must be a non-empty string.")
    lang = raw.get("lang", detect_language(raw["question"]))
    if lang not in SUPPORTED:
        got = f"got {lang!r}" if "lang" in raw else f"the question looks like {lang!r}"
        raise fail(f"field 'lang' must be one of {', '.join(SUPPORTED)} ({got}).")
    answerable = raw.get("answerable", True)
    if not isinstance(answerable, bool):
        raise fail("field 'answerable' must be true or false.")
    answers = [[part] if isinstance(part, str) else part for part in raw.get("answers", [])] \
        if isinstance(raw.get("answers", []), list) else None
    if answers is None or not all(_strings(a) and a for a in answers):
        raise fail("field 'answers' must be a list of strings or lists of strings.")
    if answerable and not answers:
        raise fail("field 'answers' is required for an answerable question.")
    for part in (p for a in answers for p in a):
        if not match_tokens(part):
            raise fail(f"answer {part!r} has no letters or digits to match.")
    for name in ("sources", "tags", "quotes"):
        if not _strings(raw.get(name, [])):
            raise fail(f"field {name!r} must be a list of strings.")
    history = raw.get("history", [])
    if not isinstance(history, list) or not all(
            isinstance(t, list | tuple) and len(t) == 2 and _strings(list(t)) for t in history):
        raise fail("field 'history' must be a list of [question, answer] pairs.")
    return Item(id=raw["id"], question=raw["question"], lang=lang, answers=answers,
                sources=list(raw.get("sources", [])), answerable=answerable,
                tags=list(raw.get("tags", [])), history=[(q, a) for q, a in history],
                quotes=list(raw.get("quotes", [])))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def sample(items: list[Item], limit: int | None, seed: int | None) -> list[Item]:
    """The first `limit` items, or with a seed a reproducible random sample in set order."""
    if limit is None or limit >= len(items):
        return items
    if seed is None:
        return items[:limit]
    chosen = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in chosen]


# ---------------------------------------------------------------------------------- matching

_THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d{3}(?!\d))")
_WORD = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
_ARABIC_WORD = re.compile("[\u0621-\u064a]")
_CLITICS = ("و", "ف", "ب", "ل", "ك", "ال", "وال", "فال", "بال", "كال", "لل", "ولل", "وب", "ول",
            "وك", "فب", "فل", "وبال")


def match_tokens(text: str) -> list[str]:
    """Words and numbers of `text` in the normalized form that matching compares."""
    text = MARKER.sub(" ", text)
    text = _THOUSANDS.sub("", normalize(text).replace("٫", "."))
    return _WORD.findall(text)


def contains(words: list[str], expected: str) -> bool:
    """True when the words of `expected` appear consecutively in `words`."""
    wanted = match_tokens(expected)
    n = len(wanted)
    return bool(wanted) and any(
        all(_same_word(words[i + j], wanted[j]) for j in range(n))
        for i in range(len(words) - n + 1))


def _same_word(said: str, wanted: str) -> bool:
    if said == wanted:
        return True
    if _ARABIC_WORD.match(wanted):
        # "الصين" is written "بالصين", "للصين" or, after a noun, "صين": clitics attach in front.
        bare = wanted[2:] if wanted.startswith("ال") and len(wanted) > 3 else wanted
        return said == bare or any(said in (c + wanted, c + bare) for c in _CLITICS)
    return wanted.isalpha() and said in (wanted + "s", wanted + "es")


def missing_parts(text: str, alternatives: list[list[str]]) -> list[str]:
    """[] when an alternative matches `text`, else what the closest alternative lacks."""
    words = match_tokens(text)
    best: list[str] | None = None
    for alternative in alternatives:
        missing = [part for part in alternative if not contains(words, part)]
        if not missing:
            return []
        if best is None or len(missing) < len(best):
            best = missing
    return best or []


def matches(text: str, alternatives: list[list[str]]) -> bool:
    return bool(alternatives) and not missing_parts(text, alternatives)


def source_matches(doc_id: str, expected: str) -> bool:
    """A doc id matches itself, its file name, and its "file#n" prefix."""
    return expected in (doc_id, doc_id.split("#", 1)[0], doc_id.split(":", 1)[0])


def citation_correct(doc_id: str, quote: str, item: Item) -> bool:
    if item.sources and not any(source_matches(doc_id, s) for s in item.sources):
        return False
    words = match_tokens(quote)
    return any(contains(words, s) for s in item.quote_strings)


# ---------------------------------------------------------------------------------- running


@dataclass
class QuestionResult:
    id: str
    question: str
    lang: str
    answerable: bool
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # expected, as in the question set
    answer: str = ""
    answer_language: str = ""
    refused: bool = False
    unsupported: bool = False
    unsupported_text: str = ""  # what the model said when the support gate refused it
    standalone_question: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)  # with "correct" added
    timings: dict[str, float] = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)  # distinct doc ids, best first
    source_rank: int | None = None  # 1-based rank of the first expected document
    correct: bool | None = None  # an acceptable answer is in the text (answerable, answered)
    missing: list[str] = field(default_factory=list)
    citation_precision: float | None = None
    passed: bool = False
    reasons: list[str] = field(default_factory=list)
    error: str = ""


def evaluate(assistant: Pipeline, items: Sequence[Item], retrieval_only: bool = False,
             k: int = 5, progress: Progress | None = None, name: str = "questions") -> Report:
    """Run every item through the assistant and measure; see the module docstring."""
    results = []
    for i, item in enumerate(items):
        if progress:
            progress("questions", i, len(items))
        results.append(_run(assistant, item, retrieval_only, k))
    if progress:
        progress("questions", len(items), len(items))
    settings = assistant.settings
    totals, counts = summarize(results, retrieval_only)
    by_language = {lang: summarize([r for r in results if r.lang == lang], retrieval_only)[0]
                   for lang in SUPPORTED if any(r.lang == lang for r in results)}
    return Report(
        name=name, created=datetime.now().isoformat(timespec="seconds"),
        mode="retrieval-only" if retrieval_only else "full", k=k,
        models={"llm": settings.llm, "embedding_model": settings.embedding_model},
        settings={f.name: _plain(getattr(settings, f.name)) for f in fields(settings)},
        revision=_git_revision(), totals=totals, counts=counts,
        by_language={lang: {m: v[m] for m in ("questions", *LANGUAGE_METRICS) if m in v}
                     for lang, v in by_language.items()},
        results=results)


def _run(assistant: Pipeline, item: Item, retrieval_only: bool, k: int) -> QuestionResult:
    result = QuestionResult(item.id, item.question, item.lang, item.answerable, list(item.tags),
                            list(item.sources))
    try:
        if retrieval_only:
            # No model to rewrite a follow-up: the previous question supplies the context.
            query = " ".join([item.history[-1][0], item.question] if item.history
                             else [item.question])
        else:
            _record_answer(result, assistant.ask(item.question, item.history), item)
            query = result.standalone_question or item.question
        started = time.perf_counter()
        passages = assistant.search(query, k)
        if retrieval_only:
            result.timings = {"retrieval": time.perf_counter() - started}
    except (ModelError, IndexStoreError):
        raise  # a missing model or index fails every question the same way: stop now
    except Exception as e:  # one broken question must not end the run
        log.exception("question %s failed", item.id)
        result.error = f"{type(e).__name__}: {e}"
        result.reasons = [f"error: {result.error}"]
        return result
    result.retrieved = list(dict.fromkeys(p.document.doc_id for p in passages))
    result.source_rank = next(
        (rank for rank, doc_id in enumerate(result.retrieved, start=1)
         if any(source_matches(doc_id, s) for s in item.sources)), None)
    result.reasons = _retrieval_reasons(result, item) if retrieval_only else _reasons(result, item)
    result.passed = not result.reasons
    return result


def _record_answer(result: QuestionResult, answer: Answer, item: Item) -> None:
    result.answer = answer.text
    text = MARKER.sub(" ", answer.text)
    result.answer_language = detect_language(text) if script_counts(text) else item.lang
    result.refused = answer.refused
    result.unsupported = answer.unsupported
    result.unsupported_text = answer.unsupported_text
    result.standalone_question = answer.standalone_question
    result.timings = {key: answer.timings[key] for key in LATENCIES if key in answer.timings}
    result.citations = [_citation_record(c, item) for c in answer.citations]
    if item.answerable and not answer.refused:
        result.missing = missing_parts(answer.text, item.answers)
        # "Which came first, A or B?" holds its answer: the question echoed back is no answer.
        if not result.missing and contains(match_tokens(answer.text), item.question):
            result.missing = ["(an answer, not the question repeated)"]
        result.correct = not result.missing
        if result.citations:
            result.citation_precision = (sum(c["correct"] for c in result.citations)
                                         / len(result.citations))


def _citation_record(c: Citation, item: Item) -> dict[str, Any]:
    return {"number": c.number, "doc_id": c.doc_id, "quote": c.quote, "support": c.support,
            "supported": c.supported, "correct": citation_correct(c.doc_id, c.quote, item)}


def _reasons(result: QuestionResult, item: Item) -> list[str]:
    reasons = []
    if not item.answerable and not result.refused:
        reasons.append("answered a question the articles do not answer")
    elif item.answerable and result.refused:
        reasons.append("refused an answerable question")
    elif not result.answer.strip():
        reasons.append("empty answer that is not a refusal")
    elif item.answerable:
        if result.missing:
            reasons.append("answer lacks " + ", ".join(repr(p) for p in result.missing))
        if not any(c["supported"] for c in result.citations):
            reasons.append("no supported citation")
    if result.answer_language != item.lang:
        reasons.append(f"answered in {result.answer_language!r}, asked in {item.lang!r}")
    return reasons


def _retrieval_reasons(result: QuestionResult, item: Item) -> list[str]:
    if item.answerable and item.sources and result.source_rank is None:
        return [f"no expected source in the top {len(result.retrieved)} documents"]
    return []


# ---------------------------------------------------------------------------------- metrics


def summarize(results: Sequence[QuestionResult],
              retrieval_only: bool = False) -> tuple[dict[str, float | None], dict[str, int]]:
    """(metric -> value or None when nothing to measure, metric -> its denominator)."""
    totals: dict[str, float | None] = {"questions": len(results)}
    counts: dict[str, int] = {"questions": len(results)}

    def share(name: str, flags: list[bool | float]) -> None:
        totals[name] = float(np.mean(flags)) if flags else None
        counts[name] = len(flags)

    ok = [r for r in results if not r.error]
    answerable = [r for r in results if r.answerable]
    ranked = [r for r in ok if r.answerable and r.sources]
    share("pass_rate", [r.passed for r in results])
    share("recall@1", [r.source_rank == 1 for r in ranked])
    share("recall@k", [r.source_rank is not None for r in ranked])
    share("mrr", [1 / r.source_rank if r.source_rank else 0.0 for r in ranked])
    if not retrieval_only:
        answered = [r for r in ok if r.answerable and not r.refused]
        share("answer_accuracy", [bool(r.correct) for r in answerable])
        share("refusal_accuracy", [r.refused for r in results if not r.answerable])
        share("wrong_refusal_rate", [r.refused for r in answerable])
        share("language_match", [r.answer_language == r.lang for r in ok])
        share("cited_answers", [any(c["supported"] for c in r.citations) for r in answered])
        share("citation_precision", [r.citation_precision for r in answered
                                     if r.citation_precision is not None])
    for key in LATENCIES:
        values = [r.timings[key] for r in ok if key in r.timings]
        for p in (50, 95):
            totals[f"latency_{key}_p{p}"] = float(np.percentile(values, p)) if values else None
    return totals, counts


# ---------------------------------------------------------------------------------- reports


@dataclass
class Report:
    name: str
    created: str
    mode: str  # "full" or "retrieval-only"
    k: int
    models: dict[str, str]
    settings: dict[str, Any]
    revision: str
    totals: dict[str, float | None]
    counts: dict[str, int]
    by_language: dict[str, dict[str, float | None]]
    results: list[QuestionResult]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        data = dict(data)
        data["results"] = [QuestionResult(**r) for r in data["results"]]
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> Report:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise EvaluationError(f"Cannot read the report {path}: {e}") from e


def write_report(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write `<name>_<date>_<time>.json` and the Markdown summary `.md` next to it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{report.name}_{report.created.replace(':', '').replace('T', '_')}"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path


def markdown(report: Report) -> str:
    t, langs = report.totals, list(report.by_language)
    lines = [f"# Evaluation: {report.name} ({report.mode})", "",
             f"{report.created} · LLM `{report.models['llm']}` · embeddings "
             f"`{report.models['embedding_model']}` · k={report.k}"
             + (f" · revision {report.revision}" if report.revision else ""), "",
             f"{t['questions']} questions, {sum(r.passed for r in report.results)} passed.", "",
             "| metric | all | n | " + " | ".join(langs) + " |",
             "|---|---|---|" + "---|" * len(langs)]
    for name in ("pass_rate", "recall@1", "recall@k", "mrr", *LANGUAGE_METRICS[2:]):
        if name not in t:
            continue
        label = f"recall@{report.k}" if name == "recall@k" else name
        cells = [_cell(report.by_language[lang].get(name, "-")) for lang in langs]
        lines.append(f"| {label} | {_cell(t[name])} | {report.counts.get(name, '')} | "
                     + " | ".join(cells) + " |")
    lines += ["", "| latency (s) | p50 | p95 |", "|---|---|---|"]
    for key in LATENCIES:
        if t.get(f"latency_{key}_p50") is not None:
            lines.append(f"| {key} | {t[f'latency_{key}_p50']:.2f} | "
                         f"{t[f'latency_{key}_p95']:.2f} |")
    failed = [r for r in report.results if not r.passed]
    if failed:
        lines += ["", "## Failed", ""]
        lines += [f"- `{r.id}` ({r.lang}) {r.question} — {'; '.join(r.reasons)}" for r in failed]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("-" if value is None else str(value))


# ---------------------------------------------------------------------------------- the gate


def compare(report: Report, baseline: Report) -> list[str]:
    """What got worse than `baseline` beyond tolerance; with any, the questions that broke."""
    if report.mode != baseline.mode or report.k != baseline.k:
        return [(f"not comparable: this run is {report.mode} with k={report.k}, the baseline "
                 f"{baseline.mode} with k={baseline.k}")]
    ours, theirs = {r.id for r in report.results}, {r.id for r in baseline.results}
    if ours != theirs:
        return [(f"not comparable: the question sets differ ({len(ours - theirs)} questions "
                 f"only in this run, {len(theirs - ours)} only in the baseline); "
                 "make a new baseline after changing the set")]
    problems = []
    for name in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        new, old = report.totals.get(name), baseline.totals.get(name)
        if new is None or old is None:
            continue
        n = report.counts.get(name) or 1
        tolerance = NOISE_QUESTIONS / n
        drop = new - old if name in LOWER_IS_BETTER else old - new
        if drop > tolerance + 1e-9:
            problems.append(f"{name} went from {old:.3f} to {new:.3f} "
                            f"(tolerance {tolerance:.3f}: {NOISE_QUESTIONS} of {n} questions)")
    return problems + newly_failing(report, baseline) if problems else []


def newly_failing(report: Report, baseline: Report) -> list[str]:
    """Questions that passed in `baseline` and fail now, with today's reasons."""
    passed_before = {r.id for r in baseline.results if r.passed}
    return [f"{r.id}: pass -> fail ({'; '.join(r.reasons)})"
            for r in report.results if r.id in passed_before and not r.passed]


# ---------------------------------------------------------------------------------- XQuAD


def xquad_file_name(article: int, paragraph: int) -> str:
    return f"xquad_{article:02d}_{paragraph:02d}.txt"


def _xquad(folder: str | Path, lang: str) -> list[dict[str, Any]]:
    path = Path(folder) / f"xquad.{lang}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as e:
        raise EvaluationError(f"Cannot read XQuAD from {path}: {e}. Pass --xquad-dir.") from e


def load_xquad(folder: str | Path, lang: str, limit: int | None = None,
               sample_seed: int | None = 0) -> list[Item]:
    """XQuAD questions in `lang` over the Arabic paragraphs (see `write_xquad_corpus`).

    English questions expect the English answer texts; a correct citation quotes the Arabic
    paragraph, so their quote strings are the Arabic answers of the same question id.
    """
    english = {qa["id"]: qa for article in _xquad(folder, "en")
               for p in article["paragraphs"] for qa in p["qas"]} if lang == "en" else {}
    items = []
    for a, article in enumerate(_xquad(folder, "ar")):
        for p, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                arabic = _answer_texts(qa)
                asked = english[qa["id"]] if lang == "en" else qa
                items.append(Item(id=f"{qa['id']}-{lang}", question=asked["question"], lang=lang,
                                  answers=[[t] for t in _answer_texts(asked)],
                                  sources=[xquad_file_name(a, p)], tags=[lang, "xquad"],
                                  quotes=arabic if lang == "en" else []))
    return sample(items, limit, sample_seed)


def _answer_texts(qa: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(x["text"].strip() for x in qa["answers"]
                              if match_tokens(x["text"])))


def write_xquad_corpus(folder: str | Path, out_dir: str | Path) -> Path:
    """The 240 Arabic XQuAD paragraphs as one article file each, ready to ingest.

    The first line is a neutral title: the Wikipedia article titles are English and would
    give English questions a keyword match that real Arabic news titles do not offer.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for a, article in enumerate(_xquad(folder, "ar")):
        for p, paragraph in enumerate(article["paragraphs"]):
            path = out / xquad_file_name(a, p)
            text = f"XQuAD {a:02d}-{p:02d}\n\n{paragraph['context'].strip()}\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
    return out


def xquad_settings(settings: Settings) -> Settings:
    """Settings whose index is the XQuAD one, next to the main index (index-xquad/index)."""
    base = settings.index_dir.parent / f"{settings.index_dir.name}-xquad"
    return settings.with_values({"index_dir": base / "index"})


def ingest_xquad(assistant: Assistant, folder: str | Path, progress: Progress | None = None) -> None:
    """Write the paragraphs next to the XQuAD index and ingest them (unchanged files: no-op)."""
    corpus = write_xquad_corpus(folder, assistant.settings.index_dir.parent / "corpus")
    report = assistant.ingest([corpus], prune=True, progress=progress)
    log.info("XQuAD corpus: %s", report.summary())


def load_question_set(spec: str, xquad_dir: str | Path, limit: int | None = None,
                      sample_seed: int | None = None) -> tuple[str, list[Item]]:
    """(set name, items) for a file path or "xquad-ar" / "xquad-en"."""
    if spec in XQUAD_SETS:
        seed = 0 if sample_seed is None else sample_seed  # XQuAD's order is by topic
        return spec, load_xquad(xquad_dir, XQUAD_SETS[spec], limit, seed)
    return Path(spec).stem, sample(load_questions(spec), limit, sample_seed)


# ---------------------------------------------------------------------------------- helpers


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _git_revision() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False,
                              capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


"""Running a question set through the real pipeline and judging each answer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..citations import MARKER
from ..config import Settings
from ..errors import IndexStoreError, ModelError
from ..language import detect_language, script_counts
from ..types import UNVERIFIED, Answer, Citation, Passage
from .matching import contains, match_tokens, missing_parts, source_matches
from .questions import Item
from .report import LATENCIES, QuestionResult, Report

if TYPE_CHECKING:
    from ..types import Progress

log = logging.getLogger(__name__)


class Pipeline(Protocol):
    """What `evaluate` needs of an Assistant."""

    settings: Settings

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer: ...

    def search(self, query: str, k: int | None = None) -> list[Passage]: ...


def evaluate(assistant: Pipeline, items: Sequence[Item], retrieval_only: bool = False,
             k: int = 5, progress: Progress | None = None, name: str = "questions") -> Report:
    """Run every item through the assistant and measure (metrics: `rag.evaluate.report`)."""
    results = []
    for i, item in enumerate(items):
        if progress:
            progress("questions", i, len(items))
        results.append(_run(assistant, item, retrieval_only, k))
    if progress:
        progress("questions", len(items), len(items))
    return Report.from_results(name, results, assistant.settings, retrieval_only, k)


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
    # An unverified answer quotes the articles after its first line: the quotes are in the
    # articles' language, the statement in the question's.
    said = answer.text.split("\n")[0] if answer.status == UNVERIFIED else answer.text
    text = MARKER.sub(" ", said)
    # So are the source's words an English answer carries: "Tuesday («الثلاثاء») [1]".
    own = re.sub(r"«[^»]*»", " ", text)
    text = own if own.strip() else text
    result.answer_language = detect_language(text) if script_counts(text) else item.lang
    result.refused = answer.refused
    result.status = answer.status
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


def citation_correct(doc_id: str, quote: str, item: Item) -> bool:
    """The cited document is an expected source (if the item lists any) and the quote holds
    one of the item's quote strings."""
    if item.sources and not any(source_matches(doc_id, s) for s in item.sources):
        return False
    words = match_tokens(quote)
    return any(contains(words, s) for s in item.quote_strings)


def _citation_record(c: Citation, item: Item) -> dict[str, Any]:
    return {"number": c.number, "doc_id": c.doc_id, "quote": c.quote, "support": c.support,
            "supported": c.supported, "correct": citation_correct(c.doc_id, c.quote, item)}


def _reasons(result: QuestionResult, item: Item) -> list[str]:
    reasons = []
    if not item.answerable and not result.refused:
        reasons.append("answered a question the articles do not answer")
    elif item.answerable and result.refused:
        reasons.append(f"not answered ({result.status})")
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

"""Offline evaluation: question sets run through the real pipeline, metrics, a regression gate.

    questions   the question-set format (JSONL or YAML), loading, validation and sampling
    matching    whether an answer or a quote says a gold answer (built on rag.arabic)
    runner      `evaluate`: each question through the assistant, judged, with its reasons
    report      per-question results, the metrics, the JSON and Markdown report files
    gate        `compare`: what got worse than a baseline report beyond one question of noise
    xquad       the XQuAD sets (xquad-ar, xquad-en, or a half: xquad-en:cal) and their corpus

    from rag.evaluate import evaluate, load_question_set, write_report
"""

from .gate import compare, newly_failing
from .matching import contains, match_tokens, matches, missing_parts, source_matches
from .questions import EvaluationError, Item, load_questions, parse_item, sample
from .report import QuestionResult, Report, markdown, summarize, write_report
from .runner import Pipeline, citation_correct, evaluate
from .xquad import (
    XQUAD_SETS,
    ingest_xquad,
    is_xquad,
    load_question_set,
    load_xquad,
    write_xquad_corpus,
    xquad_file_name,
    xquad_settings,
)

__all__ = [
    "XQUAD_SETS", "EvaluationError", "Item", "Pipeline", "QuestionResult", "Report",
    "citation_correct", "compare", "contains", "evaluate", "ingest_xquad", "is_xquad",
    "load_question_set",
    "load_questions", "load_xquad", "markdown", "match_tokens", "matches", "missing_parts",
    "newly_failing", "parse_item", "sample", "source_matches", "summarize", "write_report",
    "write_xquad_corpus", "xquad_file_name", "xquad_settings",
]

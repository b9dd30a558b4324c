"""Reports: per-question results, the metrics over them, and the files written.

Metrics (the denominator of each is in `Report.counts`):

    recall@1, recall@k, mrr   an expected source among the distinct documents of
                              assistant.search(standalone question, k), over answerable items
                              with sources; sources are alternatives (any one counts)
    answer_accuracy           answerable items answered (status "answered") with a matching answer
    answered_precision        answered items (any) whose answer is right: an answered
                              unanswerable item counts as wrong
    refusal_accuracy          unanswerable items not answered ("unverified" or "not_found")
    wrong_refusal_rate        answerable items not answered (lower is better)
    not_found_rate            answerable items that ended "not_found" (lower is better)
    useful_rate               answerable items answered right, or "unverified" with a correct
                              citation among the passages shown
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
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings
from ..language import SUPPORTED
from .questions import EvaluationError

LATENCIES = ("retrieval", "first_token", "total")
LANGUAGE_METRICS = ("pass_rate", "recall@k", "answer_accuracy", "answered_precision",
                    "refusal_accuracy", "wrong_refusal_rate", "not_found_rate", "useful_rate",
                    "language_match", "cited_answers", "citation_precision")


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
    status: str = ""  # "answered", "unverified" or "not_found"
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
        share("answered_precision", [bool(r.answerable and r.correct)
                                     for r in ok if not r.refused])
        share("refusal_accuracy", [r.refused for r in results if not r.answerable])
        share("wrong_refusal_rate", [r.refused for r in answerable])
        share("not_found_rate", [r.status == "not_found" for r in answerable])
        share("useful_rate", [bool(r.correct) or (r.status == "unverified" and any(
            c["correct"] for c in r.citations)) for r in answerable])
        share("language_match", [r.answer_language == r.lang for r in ok])
        share("cited_answers", [any(c["supported"] for c in r.citations) for r in answered])
        share("citation_precision", [r.citation_precision for r in answered
                                     if r.citation_precision is not None])
    for key in LATENCIES:
        values = [r.timings[key] for r in ok if key in r.timings]
        for p in (50, 95):
            totals[f"latency_{key}_p{p}"] = float(np.percentile(values, p)) if values else None
    return totals, counts


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

    @classmethod
    def from_results(cls, name: str, results: list[QuestionResult], settings: Settings,
           retrieval_only: bool, k: int) -> Report:
        """The report of a run now: its metrics, overall and by language, and what ran."""
        totals, counts = summarize(results, retrieval_only)
        by_language = {lang: summarize([r for r in results if r.lang == lang], retrieval_only)[0]
                       for lang in SUPPORTED if any(r.lang == lang for r in results)}
        return cls(
            name=name, created=datetime.now().isoformat(timespec="seconds"),
            mode="retrieval-only" if retrieval_only else "full", k=k,
            models={"llm": settings.llm, "embedding_model": settings.embedding_model},
            settings={f.name: _plain(getattr(settings, f.name)) for f in fields(settings)},
            revision=_git_revision(), totals=totals, counts=counts,
            by_language={lang: {m: v[m] for m in ("questions", *LANGUAGE_METRICS) if m in v}
                         for lang, v in by_language.items()},
            results=results)

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

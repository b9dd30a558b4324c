"""The regression gate: a run compared with a baseline report.

`compare` fails a metric that drops by more than one question's worth (1/n of its own
denominator). Generation is greedy with a fixed seed, but llama.cpp's sums depend on the thread
count and CPU, so one borderline answer can flip between machines; a zero tolerance would make
the gate flaky, while two questions' worth is already a change worth a look. Latency depends
on the machine and its load and is reported only.
"""

from __future__ import annotations

from .report import Report

HIGHER_IS_BETTER = ("pass_rate", "recall@1", "recall@k", "mrr", "answer_accuracy",
                    "refusal_accuracy", "language_match", "cited_answers", "citation_precision",
                    "answered_precision", "useful_rate")
LOWER_IS_BETTER = ("wrong_refusal_rate", "not_found_rate")
NOISE_QUESTIONS = 1  # how many questions' worth a metric may drop before the gate fails


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

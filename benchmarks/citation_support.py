"""Calibrate the citation support thresholds (Settings.lexical_support, .dense_support).

    .venv/bin/python benchmarks/citation_support.py --json reports/citation_support.json

Runs the question set with the support gate switched off, so every answer the model writes
is kept with the support score of its best citation. An answer is "right" when the question
is answerable and the answer holds an accepted answer; it is "wrong" when it lacks one or
answers a question the articles do not answer. For each threshold the table shows how many
right answers would be kept and how many wrong ones would still be shown. Arabic answers
are scored by word overlap (same script as the evidence), English ones by the embedding
similarity, so the two thresholds are swept apart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluate import XQUAD_SETS, evaluate, ingest_xquad, load_question_set, xquad_settings

XQUAD_DIR = ROOT.parent / "shared/benchmarks/xquad"
# A wrong answer shown as fact costs more than a right one withheld: it is trusted.
WRONG_SHOWN_COST = 2.0


def scored_answers(settings: Settings, questions: str, limit: int | None) -> list[dict]:
    settings = settings.with_values({"lexical_support": 0.0, "dense_support": 0.0})
    _, items = load_question_set(questions, XQUAD_DIR, limit, 0 if limit else None)
    if questions in XQUAD_SETS:
        settings = xquad_settings(settings)
    assistant = Assistant(settings)
    if questions in XQUAD_SETS:
        ingest_xquad(assistant, XQUAD_DIR)
    report = evaluate(assistant, items,
                      progress=lambda what, i, n: print(f"\r{what} {i}/{n}", end="", flush=True))
    print()
    rows = []
    for r in report.results:
        if r.error:
            continue
        rows.append({"id": r.id, "lang": r.lang, "answerable": r.answerable,
                     "answer": r.answer, "refused": r.refused,
                     "support": max((c["support"] for c in r.citations), default=0.0),
                     "right": bool(r.answerable and r.correct),
                     "evidence_similarity": evidence_similarity(
                         assistant, r.standalone_question or r.question)})
    return rows


def evidence_similarity(assistant: Assistant, question: str) -> float:
    """Cosine of the question and its closest evidence sentence: a possible pre-LLM gate."""
    evidence = assistant.selector.select(question, assistant.search(question),
                                         assistant.settings.evidence_sentences)
    if not evidence:
        return 0.0
    vectors = assistant.embedder.embed_passages([e.text for e in evidence])
    return round(float(np.max(vectors @ assistant.embedder.embed_query(question))), 4)


def sweep(rows: list[dict], thresholds: list[float]) -> list[dict]:
    out = []
    rows = [r for r in rows if not r["refused"]]
    for t in thresholds:
        kept = [r for r in rows if r["support"] >= t]
        right = sum(r["right"] for r in kept)
        wrong = len(kept) - right
        out.append({"threshold": t, "right_kept": right, "wrong_shown": wrong,
                    "right_withheld": sum(r["right"] for r in rows) - right,
                    "score": right - WRONG_SHOWN_COST * wrong})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default=str(ROOT / "tests/questions/seeds.jsonl"),
                        help="a question set file, or xquad-ar / xquad-en")
    parser.add_argument("--limit", type=int, help="a sample of this many questions (seed 0)")
    parser.add_argument("--json", type=Path, help="write the answers and the sweep here")
    args = parser.parse_args()

    settings = Settings.load()
    rows = scored_answers(settings, args.questions, args.limit)
    result = {"created": time.strftime("%Y-%m-%d %H:%M"), "llm": settings.llm,
              "questions": Path(args.questions).name, "answers": rows, "sweeps": {}}
    for lang, name, grid in (("ar", "lexical_support", [i / 20 for i in range(15)]),
                             ("en", "dense_support", [0.70 + i / 100 for i in range(21)])):
        subset = [r for r in rows if r["lang"] == lang]
        if not subset:
            continue
        table = sweep(subset, grid)
        best = max(table, key=lambda row: (row["score"], -row["threshold"]))
        result["sweeps"][name] = {"table": table, "best": best["threshold"],
                                  "current": getattr(settings, name)}
        print(f"\n{lang} answers ({len(subset)}, {sum(r['right'] for r in subset)} right): "
              f"{name} (now {getattr(settings, name)})")
        print(f"{'threshold':>9} {'right kept':>10} {'wrong shown':>11} {'right withheld':>14}")
        for row in table:
            mark = "  <- best" if row is best else ""
            print(f"{row['threshold']:>9.2f} {row['right_kept']:>10} {row['wrong_shown']:>11} "
                  f"{row['right_withheld']:>14}{mark}")
    print("\nquestion vs closest evidence sentence (cosine), a gate before the model:")
    for answerable in (True, False):
        sims = sorted(r["evidence_similarity"] for r in rows if r["answerable"] == answerable)
        if not sims:
            continue
        print(f"  {'answerable' if answerable else 'unanswerable':>12}: min {sims[0]:.3f} "
              f"median {sims[len(sims) // 2]:.3f} max {sims[-1]:.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

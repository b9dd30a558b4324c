"""Calibrate `Settings.relevance_floor_ar/_en`: below it a question gets "not found", no model.

The signal is the cosine between the question and its best passage. The floor is set under the
answerable questions of XQuAD's calibration half (Arabic and English questions over the XQuAD
index), so that almost no answerable question ends "not found"; it is then reported on the
seed question set (answerable and unanswerable, over the seed index) and on off-topic questions
(tests/questions/offtopic.jsonl), which should fall under it.

    .venv/bin/python benchmarks/relevance_floor.py --json reports/relevance_floor.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluate import ingest_xquad, load_question_set, xquad_settings

XQUAD_DIR = ROOT.parent / "shared" / "benchmarks" / "xquad"
ALLOWED_NOT_FOUND = 0.0  # share of answerable calibration questions allowed under the floor


def top_cosines(assistant: Assistant, items) -> list[dict]:
    out = []
    for item in items:
        query = " ".join([item.history[-1][0], item.question] if item.history
                         else [item.question])
        passages = assistant.search(query, assistant.settings.top_k)
        best = max((p.dense_score or 0.0 for p in passages), default=0.0)
        out.append({"id": item.id, "lang": item.lang, "answerable": item.answerable,
                    "relevance": round(best, 4)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300, help="XQuAD questions per language")
    parser.add_argument("--json", type=Path, default=ROOT / "reports" / "relevance_floor.json")
    args = parser.parse_args(argv)
    settings = Settings.load()
    xquad = Assistant(xquad_settings(settings))
    ingest_xquad(xquad, XQUAD_DIR)
    calibration = []
    for spec in ("xquad-ar:cal", "xquad-en:cal"):
        calibration += top_cosines(xquad, load_question_set(spec, XQUAD_DIR, args.limit, 0)[1])
    floors = {}  # by the question's language: English questions over Arabic text score lower
    for lang in ("ar", "en"):
        values = sorted(r["relevance"] for r in calibration if r["lang"] == lang)
        floors[lang] = round(float(values[int(len(values) * ALLOWED_NOT_FOUND)]) - 0.005, 3)
    seeds = Assistant(settings)
    report = {"calibration": calibration,
              "seeds": top_cosines(seeds, load_question_set(
                  str(ROOT / "tests/questions/seeds.jsonl"), XQUAD_DIR)[1]),
              "offtopic": top_cosines(seeds, load_question_set(
                  str(ROOT / "tests/questions/offtopic.jsonl"), XQUAD_DIR)[1])}
    report["floors"] = floors
    print(f"floors {floors}: 0.005 under the answerable XQuAD calibration questions of each "
          f"language but the lowest {ALLOWED_NOT_FOUND:.0%}")
    for name in ("calibration", "seeds", "offtopic"):
        for lang in ("ar", "en"):
            for answerable in (True, False):
                group = [r["relevance"] for r in report[name]
                         if r["lang"] == lang and r["answerable"] == answerable]
                if group:
                    under = sum(v < floors[lang] for v in group)
                    print(f"{name:<12} {lang} {'answerable' if answerable else 'unanswerable':<13}"
                          f" n={len(group):<4} min {min(group):.3f} p50 "
                          f"{float(np.median(group)):.3f} max {max(group):.3f}  "
                          f"under the floor {under}")
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=0), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Draft answers labelled right or wrong: the data the claim verifier is calibrated on.

For each question, retrieval, evidence and the answering prompt are built exactly as the
assistant builds them (its public parts), then one greedy draft and `--drafts - 1` sampled
ones are generated. Each draft is kept with the question, its gold answers and the evidence
sentences, and labelled `right` when the question is answerable and the draft says a gold
answer (`rag.evaluate.matches`, the rule `rag eval` uses).

    .venv/bin/python benchmarks/labelled_drafts.py seeds xquad-ar:cal xquad-en:cal \
        xquad-ar:report xquad-en:report --limit 100 --drafts 3

XQuAD's halves are split by article (`rag.evaluate.xquad.HALVES`): the verifier is fitted on
`:cal` and reported on `:report` and the seeds. Writes `reports/tmp/labelled_drafts.jsonl`
(every text; XQuAD's text is CC BY-SA and stays out of the repository) and, per draft without
XQuAD's texts, `reports/labelled_drafts.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluate import (
    Item,
    contains,
    ingest_xquad,
    is_xquad,
    load_question_set,
    match_tokens,
    matches,
    xquad_settings,
)

XQUAD_DIR = ROOT.parent / "shared" / "benchmarks" / "xquad"
SEEDS = ROOT / "tests" / "questions" / "seeds.jsonl"
SAMPLED_TEMPERATURE = 0.7


def label_set(assistant: Assistant, items: list[Item], set_name: str, n_drafts: int,
              out) -> int:
    written = 0
    for i, item in enumerate(items, start=1):
        row = question_row(assistant, item, set_name, n_drafts)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        written += len(row["drafts"])
        right = sum(d["right"] for d in row["drafts"])
        print(f"\r{set_name} {i}/{len(items)}: {written} drafts, this one {right} right",
              end="", flush=True)
    print()
    return written


def question_row(assistant: Assistant, item: Item, set_name: str, n_drafts: int) -> dict:
    standalone = item.question
    if item.history:
        standalone = assistant.rewriter.rewrite(item.question, item.history, item.lang)
    passages = assistant.retriever().search(standalone, assistant.settings.top_k)
    evidence = assistant.selector.select(standalone, passages,
                                         assistant.settings.evidence_sentences)
    gold_quotes = item.quotes or [a for alt in item.answers for a in alt]
    row = {"set": set_name, "id": item.id, "lang": item.lang, "question": item.question,
           "standalone": standalone, "answerable": item.answerable, "answers": item.answers,
           "passage_dense": [p.dense_score for p in passages],
           "evidence": [{"number": e.number, "text": e.text, "doc_id": e.passage.document.doc_id,
                         "start": e.start, "end": e.end, "score": e.score,
                         "holds_answer": any(contains(match_tokens(e.text), q)
                                             for q in gold_quotes)} for e in evidence],
           "drafts": []}
    if not evidence:
        return row
    prompt = assistant.prompt_builder.build(standalone, item.lang, evidence)
    row["prompt_tokens"] = prompt.tokens
    for n in range(n_drafts):
        temperature = None if n == 0 else SAMPLED_TEMPERATURE
        started = time.perf_counter()
        draft = assistant.generator.draft(prompt.messages, temperature=temperature,
                                          seed=assistant.settings.seed + n)
        info = draft.generation
        right = (item.answerable and not draft.not_found
                 and matches(draft.text, item.answers))
        row["drafts"].append({"n": n, "temperature": temperature or 0.0, "text": draft.text,
                              "not_found": draft.not_found, "stopped": info.stopped,
                              "right": bool(right), "seconds": time.perf_counter() - started,
                              "first_token_s": info.first_token_s,
                              "tokens": info.completion_tokens})
    return row


def public_summary(rows: list[dict]) -> list[dict]:
    """Per draft, without XQuAD's texts (its licence keeps them out of the repository)."""
    out = []
    for row in rows:
        ours = not row["set"].startswith("xquad")
        for d in row["drafts"]:
            out.append({"set": row["set"], "id": row["id"], "lang": row["lang"],
                        "answerable": row["answerable"], "n": d["n"], "right": d["right"],
                        "not_found": d["not_found"], "seconds": round(d["seconds"], 3),
                        **({"question": row["question"], "draft": d["text"]} if ours else {})})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+",
                        help="seeds (or a question-set file), xquad-ar:cal, xquad-en:report, ...")
    parser.add_argument("--limit", type=int, default=100, help="questions per XQuAD set")
    parser.add_argument("--drafts", type=int, default=3, help="greedy + sampled, per question")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "tmp" /
                        "labelled_drafts.jsonl")
    parser.add_argument("--summary", type=Path, default=ROOT / "reports" /
                        "labelled_drafts.json")
    args = parser.parse_args(argv)
    settings = Settings.load()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    seeds = Assistant(settings)
    xquad = None  # its own index, sharing the seeds assistant's model
    with args.out.open("w", encoding="utf-8") as out:
        for spec in args.sets:
            if not is_xquad(spec):
                _, items = load_question_set(str(SEEDS) if spec == "seeds" else spec,
                                             XQUAD_DIR)
                label_set(seeds, items, spec, args.drafts, out)
                continue
            if xquad is None:
                xquad = Assistant(xquad_settings(settings), llm=seeds.llm)
                ingest_xquad(xquad, XQUAD_DIR)
            _, items = load_question_set(spec, XQUAD_DIR, args.limit, 0)
            label_set(xquad, items, spec, args.drafts, out)
    rows = [json.loads(line) for line in args.out.read_text(encoding="utf-8").splitlines()]
    summary = public_summary(rows)
    args.summary.write_text(json.dumps({"drafts": summary}, ensure_ascii=False, indent=0),
                            encoding="utf-8")
    for lang in ("ar", "en"):
        drafts = [d for d in summary if d["lang"] == lang]
        print(f"{lang}: {len(drafts)} drafts, {sum(d['right'] for d in drafts)} right")
    print(f"Written: {args.out} and {args.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

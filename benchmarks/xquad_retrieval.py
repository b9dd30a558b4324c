"""Retrieval quality on XQuAD-ar: BM25, dense, and hybrid, for Arabic and English questions.

The 240 Arabic XQuAD paragraphs are the corpus (one document each, chunked as ingestion
would); the 1,190 questions are asked in Arabic (AR->AR) and in English (EN->AR, same ids).
A hit is the gold paragraph among the top results. Also measured: query latency (embed +
dense + BM25 + fusion) and how often the evidence sentences contain the gold answer, chosen
as the assistant chooses them (from Assistant.retrieve's passages: re-ranked by sentence for
an English question).

Questions are reported by XQuAD half (rag.evaluate.xquad.HALVES, split by article): tune
on "cal", report on "report".

    .venv/bin/python benchmarks/xquad_retrieval.py --threads 1 --json reports/xquad_retrieval.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.chunker import Chunker
from rag.config import Settings
from rag.embedder import Embedder
from rag.evaluate.xquad import HALVES
from rag.evidence import EvidenceSelector
from rag.ingest import CHUNKER_VERSION
from rag.rerank import sentence_rerank
from rag.retriever import HybridRetriever, rrf
from rag.segment import build_vector_index
from rag.store import IndexData
from rag.types import Chunk, Document, Passage

XQUAD = Path("/work/shared/benchmarks/xquad")
MODEL = Path.home() / ".cache/rag/models/multilingual-e5-small"
EVIDENCE_N = (3, 4, 5, 6, 8)
COLD_EVERY = 5  # evidence latency is timed cold (no cached sentence vectors) on every 5th query


def load_xquad(folder: Path) -> tuple[list[Document], list[dict]]:
    ar = json.loads((folder / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    en = json.loads((folder / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    english = {q["id"]: q["question"] for a in en for p in a["paragraphs"] for q in p["qas"]}
    documents, questions = [], []
    for a, article in enumerate(ar):
        for paragraph in article["paragraphs"]:
            doc = Document(doc_id=f"xquad-{len(documents)}", source_file="xquad.ar.json",
                           title=article["title"], text=paragraph["context"])
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                questions.append({"id": qa["id"], "ar": qa["question"], "en": english[qa["id"]],
                                  "article": a, "doc_id": doc.doc_id, "answer_start": answer["answer_start"],
                                  "answer_end": answer["answer_start"] + len(answer["text"])})
            documents.append(doc)
    return documents, questions


def chunk_documents(documents: list[Document], embedder: Embedder,
                    settings: Settings) -> tuple[list[Chunk], str]:
    chunker = Chunker(embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens)
    chunks: list[Chunk] = []
    for doc in documents:
        chunks += chunker.split(doc, len(chunks))
    return chunks, (f"rag.chunker.Chunker version {CHUNKER_VERSION} ({settings.chunk_tokens} "
                    f"tokens, {settings.chunk_overlap_tokens} overlap)")


def build_index(documents: list[Document], chunks: list[Chunk], embedder: Embedder,
                settings: Settings) -> IndexData:
    embeddings = embedder.embed_passages([c.text for c in chunks])
    return IndexData(manifest={}, documents={d.doc_id: d for d in documents}, chunks=chunks,
                     embeddings=embeddings,
                     vectors=build_vector_index(embeddings, settings.approximate_above),
                     version="xquad")


def doc_ranking(rows: list[int], index: IndexData) -> list[str]:
    """Documents in the order their first chunk appears."""
    return list(dict.fromkeys(index.chunks[r].doc_id for r in rows))


def rank_metrics(rankings: list[list[str]], gold: list[str]) -> dict[str, float]:
    ranks = [r.index(g) + 1 if g in r else None for r, g in zip(rankings, gold, strict=True)]
    n = len(ranks)
    return {"recall@1": sum(r == 1 for r in ranks) / n,
            "recall@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr": sum(1 / r for r in ranks if r) / n}


def contains_answer(evidence: list, question: dict) -> bool:
    return any(e.passage.document.doc_id == question["doc_id"]
               and e.start <= question["answer_start"] and question["answer_end"] <= e.end
               for e in evidence)


def evidence_outcome(evidence: list, question: dict, embedder: Embedder) -> tuple[bool, int, int]:
    """(holds the answer, e5 tokens, sentences)."""
    return (contains_answer(evidence, question),
            sum(embedder.count_tokens(e.text) for e in evidence), len(evidence))


def evidence_summary(outcomes: list[tuple[bool, int, int]]) -> dict[str, float]:
    hits, tokens, sentences = (np.array(x) for x in zip(*outcomes, strict=True))
    return {"answer_sentence_recall": float(hits.mean()), "sentences_mean": float(sentences.mean()),
            "tokens_mean": float(tokens.mean()), "tokens_max": int(tokens.max())}


def run_language(lang: str, questions: list[dict], retriever: HybridRetriever,
                 selector: EvidenceSelector, fixed: EvidenceSelector,
                 settings: Settings) -> dict:
    """`selector` chooses the evidence as configured; `fixed` the same way, but always as
    many sentences as asked (EVIDENCE_N)."""
    index, top_k = retriever.index, settings.top_k
    runs: dict[str, list[list[str]]] = {"bm25": [], "dense": [], "rrf": [], "hybrid": [],
                                        "hybrid+sentences": []}
    latency, evidence_latency = [], []
    stages: dict[str, list[float]] = {}
    configured: list[tuple[bool, int, int]] = []
    by_count: dict[int, list[tuple[bool, int, int]]] = {n: [] for n in EVIDENCE_N}
    for i, q in enumerate(questions):
        retriever.last_timings = {}
        candidates = retriever.candidates(q[lang])
        started = time.perf_counter()
        passages = retriever.fuse(candidates, retriever.n_candidates)
        retriever.last_timings["fusion"] = time.perf_counter() - started
        latency.append(sum(retriever.last_timings.values()))
        for stage, seconds in retriever.last_timings.items():
            stages.setdefault(stage, []).append(seconds * 1000)
        lexical = candidates.lexical if candidates.arabic_share > 0 else \
            retriever.index.lexical_search(q[lang], retriever.n_candidates)
        plain_rrf = rrf([(candidates.dense, 1.0), (lexical, 1.0)], retriever.rrf_k)
        runs["rrf"].append(doc_ranking(sorted(plain_rrf, key=lambda r: (-plain_rrf[r], r)),
                                       index))
        runs["bm25"].append(doc_ranking([r for r, _ in lexical], index))
        runs["dense"].append(doc_ranking([r for r, _ in candidates.dense], index))
        runs["hybrid"].append(doc_ranking([p.chunk.chunk_id for p in passages], index))
        cold = i % COLD_EVERY == 0
        if cold:
            selector.clear_cache()  # every sentence embedded afresh, as for a new question
        # What Assistant.retrieve returns: the top sentence_depth re-ranked (rag/rerank.py),
        # and the evidence chosen from its top_k, as Assistant.stream chooses it.
        started = time.perf_counter()
        depth = max(top_k, settings.sentence_depth)
        reranked = sentence_rerank(q[lang], passages[:depth], selector,
                                   settings.sentence_weight, candidates.query_vector)
        top: list[Passage] = reranked[:top_k]
        chosen = selector.select(q[lang], top, settings.evidence_sentences,
                                 candidates.query_vector)
        if cold:
            evidence_latency.append(time.perf_counter() - started)
        runs["hybrid+sentences"].append(doc_ranking(
            [p.chunk.chunk_id for p in reranked + passages[depth:]], index))
        configured.append(evidence_outcome(chosen, q, selector.embedder))
        for n in EVIDENCE_N:
            picked = fixed.select(q[lang], top, n, candidates.query_vector)
            by_count[n].append(evidence_outcome(picked, q, selector.embedder))
    gold = [q["doc_id"] for q in questions]
    ms = np.array(latency) * 1000
    ev_ms = np.array(evidence_latency) * 1000
    return {
        "questions": len(questions),
        "retrievers": {name: rank_metrics(r, gold) for name, r in runs.items()},
        "latency_ms": {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
                       "stages_p50": {k: float(np.median(v)) for k, v in stages.items()}},
        "evidence": {"configured": evidence_summary(configured),
                     "fixed": {n: evidence_summary(o) for n, o in by_count.items()},
                     "latency_ms_p50": float(np.percentile(ev_ms, 50)),
                     "latency_ms_p95": float(np.percentile(ev_ms, 95))},
        "load_average": os.getloadavg(),
    }


def print_table(results: dict) -> None:
    print(f"\nCorpus: {results['documents']} paragraphs, {results['chunks']} chunks "
          f"({results['chunking']}); model {results['model']}, "
          f"{results['torch_threads']} torch thread(s)")
    for half, languages in results["halves"].items():
        print(f"\nXQuAD {half} half\n{'':8} {'retriever':16} {'R@1':>6} {'R@5':>6} {'MRR':>6}")
        for lang, res in languages.items():
            for name, m in res["retrievers"].items():
                print(f"{lang:8} {name:16} {m['recall@1']:6.3f} {m['recall@5']:6.3f} "
                      f"{m['mrr']:6.3f}")
        for lang, res in languages.items():
            ev = res["evidence"]
            print(f"{lang:8} n={res['questions']}  query latency p50 "
                  f"{res['latency_ms']['p50']:.1f} ms, p95 {res['latency_ms']['p95']:.1f} ms ("
                  + ", ".join(f"{k} {v:.2f}" for k, v in res["latency_ms"]["stages_p50"].items())
                  + " ms p50); load average " + " ".join(f"{x:.2f}" for x in res["load_average"]))
            print(f"{'':8} evidence (re-rank + select, cold cache) p50 {ev['latency_ms_p50']:.0f}"
                  f" ms, p95 {ev['latency_ms_p95']:.0f} ms")
            for name, m in [("as set", ev["configured"])] + [
                    (f"@{n}", m) for n, m in ev["fixed"].items()]:
                print(f"{'':8} {name:6} answer-sentence recall {m['answer_sentence_recall']:.3f}"
                      f", {m['sentences_mean']:.2f} sentences, e5 tokens mean "
                      f"{m['tokens_mean']:.0f}, max {m['tokens_max']}")


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="sample this many questions")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--half", choices=[*HALVES, "both"], default="both",
                        help="XQuAD articles to ask about (the corpus is always all of them)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--data", type=Path, default=XQUAD)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default, one per core)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    settings = Settings.load()  # RAG_* variables try other values
    documents, questions = load_xquad(args.data)
    halves = {}
    for half in HALVES if args.half == "both" else [args.half]:
        asked = [q for q in questions if q["article"] % 2 == HALVES[half]]
        if args.limit and args.limit < len(asked):
            asked = random.Random(args.sample_seed).sample(asked, args.limit)
        halves[half] = asked
    embedder = Embedder(str(args.model))
    started = time.perf_counter()
    chunks, chunking = chunk_documents(documents, embedder, settings)
    index = build_index(documents, chunks, embedder, settings)
    indexing = time.perf_counter() - started
    retriever = HybridRetriever.from_settings(index, embedder, settings)
    retriever.index.lexical  # noqa: B018 - build BM25 before the timed queries
    selector = EvidenceSelector.from_settings(embedder, settings)
    fixed = EvidenceSelector.from_settings(embedder,
                                           settings.with_values({"evidence_margin": math.inf}))
    for q in questions[:5]:  # warm up the model's first calls
        retriever.search(q["ar"])
    results = {"model": str(args.model), "torch_threads": _torch_threads(),
               "documents": len(documents), "chunks": len(chunks), "chunking": chunking,
               "indexing_seconds": indexing, "top_k": settings.top_k,
               "settings": {f.name: getattr(settings, f.name) for f in fields(settings)
                            if f.name.startswith(("evidence_", "sentence_"))},
               "halves": {}}
    for half, asked in halves.items():
        results["halves"][half] = {
            f"{lang.upper()}->AR": run_language(lang, asked, retriever, selector, fixed,
                                                       settings)
            for lang in ("ar", "en")}
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()

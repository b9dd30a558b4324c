"""How the index grows: FAISS (versions on disk) and Milvus Lite side by side on synthetic
corpora, through the project's own write, load, ingest and search paths.

    .venv/bin/python benchmarks/index_growth.py --sizes 10000 100000 --json reports/index_growth.json
    .venv/bin/python benchmarks/index_growth.py --sizes 1000000 --backends faiss

Rows of other backends and sizes already in the JSON file are kept (each says its command).

Per backend and size, in a fresh process each (so that memory is the index's own):
- `build_s`: writing the synthetic corpus (documents of 15 chunks of 60 seed words, 384-d
  vectors from benchmarks/retrieval_scale.py's Gaussian mixture) as one index;
- `first_search_s`: from "a new version is there" to the first answered search: loading the
  index (hashes checked, BM25 loaded) plus one hybrid search with its query embedding;
- `index_rss_mb`: resident memory that loading and searching added (this process and any
  child), everything on top of the loaded embedding model;
- `search_p50_ms` / `search_p99_ms`: HybridRetriever.search end to end, query embedding
  included, 40 Arabic keyword queries one at a time;
- `recall_at_10`: dense candidates against exact inner-product search, 50 mixture queries;
- `add_article_s`: `Ingestor.ingest` of one seed article into the existing index (reading
  the old index, chunking, embedding with the real model, writing), then
  `first_search_after_add_s` as above, in the same process (a FAISS reader keeps the
  segments it has loaded: this is what a running app pays); `remove_article_s`:
  `Ingestor.remove` of that article;
- `segments`: the FAISS version's segments after the add; `vector_index`: the FAISS index
  type of the first (bulk) segment; `disk_mb`: the index folder's size on disk.
The measuring process runs torch and FAISS with `--threads` threads (default 1: on 2 cores
shared with other work, torch with 2 threads embedded a query in 1.5 s instead of 15 ms).
Vectors are synthetic (embedding a million chunks here would take 9 hours); the query
embedding and the added article's are real. Results are written after each row.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval_scale import Mixture, load_average, percentile

from rag.config import Settings
from rag.types import Chunk, Document

SEEDS = ROOT / "seeds"
ARTICLE = SEEDS / "003_f262f470ec2870cc.txt"  # the article added to the grown index
CHUNKS_PER_DOC = 15
WORDS_PER_CHUNK = 60
QUERIES = 40
RECALL_QUERIES = 50


def tree_rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process and its children (Milvus Lite may run a server child)."""
    pid = pid or os.getpid()
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_rss_mb(int(child))
    except OSError:
        pass
    return total


def seed_words() -> list[str]:
    words = []
    for path in sorted(SEEDS.glob("*.txt")):
        words += path.read_text(encoding="utf-8").split()
    return [w for w in words if any(c.isalpha() for c in w)]


def synthetic(n: int, dim: int) -> tuple[list[Document], list[Chunk], np.ndarray]:
    words = seed_words()
    rng = random.Random(0)
    documents, chunks = [], []
    for d in range(0, n, CHUNKS_PER_DOC):
        pieces = [" ".join(rng.choices(words, k=WORDS_PER_CHUNK))
                  for _ in range(min(CHUNKS_PER_DOC, n - d))]
        text = "\n\n".join(pieces)
        doc = Document(doc_id=f"synthetic-{d}.txt#0:{d:08x}", source_file=f"synthetic-{d}.txt",
                       title=pieces[0][:60], text=text, content_hash=f"{d:064x}")
        start = 0
        for i, piece in enumerate(pieces):
            chunks.append(Chunk(chunk_id=len(chunks), doc_id=doc.doc_id, text=piece,
                                start=start, end=start + len(piece), paragraph=i))
            start += len(piece) + 2
        documents.append(doc)
    return documents, chunks, Mixture(dim=dim).draw(n, seed=1)


def first_search(settings: Settings, embedder, query: str) -> tuple[float, object]:
    from rag.ingest import load_index
    from rag.retriever import HybridRetriever

    started = time.perf_counter()
    index = load_index(settings, embedder)
    retriever = HybridRetriever.from_settings(index, embedder, settings)
    assert retriever.search(query)
    return time.perf_counter() - started, retriever


def build(backend: str, n: int, folder: Path) -> dict:
    """Write the synthetic corpus as an index (in its own process: see measure)."""
    from rag.embedder import Embedder
    from rag.ingest import index_expectations

    settings = Settings.load(index_dir=folder, vector_store=backend)
    embedder = Embedder.from_settings(settings)
    documents, chunks, vectors = synthetic(n, embedder.dim)
    expect = index_expectations(settings, embedder)
    started = time.perf_counter()
    if backend == "faiss":
        from rag.store import IndexStore

        IndexStore(folder).write(expect, documents, chunks, vectors, settings.approximate_above)
    else:
        from rag.milvus_store import open_index

        index = open_index(settings)
        index.create(expect, embedder.dim)
        index.replace(set(), documents, chunks, vectors)
    return {"backend": backend, "chunks": n, "build_s": time.perf_counter() - started}


def measure(backend: str, n: int, folder: Path, threads: int) -> dict:
    """Load, search and add an article in a process that did not write the index, so that
    its memory is what a reader holds."""
    import faiss
    import torch

    from rag.embedder import Embedder
    from rag.ingest import Ingestor

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    settings = Settings.load(index_dir=folder, vector_store=backend)
    embedder = Embedder.from_settings(settings)
    embedder.embed_query("warm up")
    vectors = Mixture(dim=embedder.dim).draw(n, seed=1)  # as synthetic() drew them
    row = {}
    base = tree_rss_mb()
    words = seed_words()
    rng = random.Random(1)
    queries = [" ".join(rng.choices(words, k=4)) for _ in range(QUERIES)]
    row["first_search_s"], retriever = first_search(settings, embedder, queries[0])
    if backend == "faiss":  # what the segments are, and what they take on disk
        row["vector_index"] = type(retriever.index.segments[0].vectors).__name__
        row["disk_mb"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    times = []
    for q in queries:
        t = time.perf_counter()
        retriever.search(q)
        times.append(time.perf_counter() - t)
    row["search_p50_ms"] = percentile(times, 50) * 1000
    row["search_p99_ms"] = percentile(times, 99) * 1000
    row["index_rss_mb"] = tree_rss_mb() - base
    probes = Mixture(dim=embedder.dim).draw(RECALL_QUERIES, seed=2)
    truth = np.argsort(-(probes @ vectors.T), axis=1)[:, :10]
    hits = 0
    for probe, exact in zip(probes, truth, strict=True):
        found = [r for r, _ in retriever.index.dense_search(probe, 10)]
        # FAISS rows are positions; Milvus numbers its rows from 1 in insertion order.
        rows = found if backend == "faiss" else [r - 1 for r in found]
        hits += len(set(rows) & set(exact.tolist()))
    row["recall_at_10"] = hits / (10 * RECALL_QUERIES)
    started = time.perf_counter()
    report = Ingestor(settings, embedder).ingest([ARTICLE])
    row["add_article_s"] = time.perf_counter() - started
    row["added_chunks"] = report.chunks
    row["first_search_after_add_s"], retriever = first_search(settings, embedder, queries[1])
    row["segments"] = len(getattr(retriever.index, "segments", []))
    started = time.perf_counter()
    Ingestor(settings, embedder).remove([str(ARTICLE)])
    row["remove_article_s"] = time.perf_counter() - started
    row["threads"] = threads
    row["load_average"] = load_average()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["faiss", "milvus"])
    parser.add_argument("--json", type=Path, default=ROOT / "reports" / "index_growth.json")
    parser.add_argument("--threads", type=int, default=1, help="torch and FAISS threads")
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.step == "build":
            print(json.dumps(build(args.one[0], int(args.one[1]), args.dir)))
        else:
            print(json.dumps(measure(args.one[0], int(args.one[1]), args.dir, args.threads)))
        return
    command = " ".join(["benchmarks/index_growth.py", *sys.argv[1:]])
    out = {"machine": f"{os.cpu_count()} CPU cores, other load in each row's load_average",
           "rows": []}
    if args.json.is_file():  # rows this run does not measure stay
        out["rows"] = [r for r in json.loads(args.json.read_text())["rows"]
                       if not (r["backend"] in args.backends and r["chunks"] in args.sizes)]
    for n in args.sizes:
        for backend in args.backends:
            row: dict = {}
            with tempfile.TemporaryDirectory(prefix="index-growth-") as tmp:
                for step in ("build", "measure"):
                    done = subprocess.run([sys.executable, __file__, "--one", backend, str(n),
                                           "--dir", tmp, "--step", step,
                                           "--threads", str(args.threads)],
                                          check=False, capture_output=True, text=True)
                    if done.returncode:
                        row.update(backend=backend, chunks=n, error=done.stderr[-2000:])
                        break
                    row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            row["command"] = command
            out["rows"].append(row)
            out["rows"].sort(key=lambda r: (r["chunks"], r["backend"]))
            print(json.dumps(row), flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

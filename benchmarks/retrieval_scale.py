"""Dense retrieval at scale: exact (flat) vs HNSW search on synthetic 384-d vectors, and the
real retriever's query path on the seed index.

    .venv/bin/python benchmarks/retrieval_scale.py --sizes 10000 100000 1000000 \
        --json reports/retrieval_scale.json

The vectors come from a Gaussian mixture (1,024 clusters, anisotropic noise whose variance
decays like 1/rank, as the spectrum of real sentence embeddings does), L2-normalized like
e5's, so nearest neighbours are meaningful and HNSW's recall is not trivially 100 %. Queries
are fresh draws from the same mixture. The indexes are built by the project's own
HNSW as rag.store built it before segments (M=32, efConstruction=80, efSearch=128); efSearch 32
and 64 are measured on the same graph too.

Per size and index: build time, index size (exact bytes of the structures), the resident
memory the build added (RSS delta), single-query latency p50/p99 (one query at a time, as a
user asks, k = settings.candidates = 30), and recall@10 against exact search. The results
are written after every row, so a long 1M run can be polled (and killed) without losing the
rows already measured. The script ends with the `approximate_above` threshold it suggests:
the size at which exact search's p50 reaches --target-ms (flat search time is linear in n).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import Settings
from rag.segment import build_vector_index

DIM = 384
CLUSTERS = 1024
NOISE = 0.9  # norm of a point's offset from its cluster centre (centres have norm 1)
FAISS_THREADS = faiss.omp_get_max_threads()  # FAISS's default, before anything changes it


def rss_mb() -> float:
    """Resident memory of this process, after handing freed heap pages back to the system
    (otherwise a build that reuses freed temporaries shows no growth)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


class Mixture:
    """A fixed Gaussian mixture on the unit sphere: draw(n) gives normalized float32 rows."""

    def __init__(self, dim: int = DIM, clusters: int = CLUSTERS, noise: float = NOISE,
                 seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.centres = rng.standard_normal((clusters, dim)).astype(np.float32)
        self.centres /= np.linalg.norm(self.centres, axis=1, keepdims=True)
        scale = 1.0 / np.sqrt(np.arange(1, dim + 1))  # variance ~ 1/rank
        self.scale = (scale * noise / np.sqrt((scale ** 2).sum())).astype(np.float32)
        self.rotation = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)

    def draw(self, n: int, seed: int, block: int = 100_000) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.centres.shape[1]), dtype=np.float32)
        for start in range(0, n, block):
            m = min(block, n - start)
            labels = rng.integers(0, len(self.centres), m)
            noise = rng.standard_normal((m, self.centres.shape[1]), dtype=np.float32)
            x = self.centres[labels] + (noise * self.scale) @ self.rotation
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[start:start + m] = x
        return out


def index_bytes(index: faiss.Index) -> int:
    """The memory the index's own structures hold (vectors, and the graph for HNSW)."""
    if isinstance(index, faiss.IndexHNSW):
        hnsw = index.hnsw
        storage = faiss.downcast_index(index.storage)
        return (storage.ntotal * storage.d * 4 + hnsw.neighbors.size() * 4
                + hnsw.offsets.size() * 8 + hnsw.levels.size() * 4)
    return index.ntotal * index.d * 4


def single_query_latency(index: faiss.Index, queries: np.ndarray, k: int,
                         warmup: int = 5) -> list[float]:
    for q in queries[:warmup]:
        index.search(q.reshape(1, -1), k)
    times = []
    for q in queries:
        q = q.reshape(1, -1)
        t = time.perf_counter()
        index.search(q, k)
        times.append(time.perf_counter() - t)
    return times


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else float("nan")


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True))
    return hits / (k * len(truth))


def measure_size(n: int, mixture: Mixture, args: argparse.Namespace, out: dict,
                 save) -> None:
    print(f"\n== {n:,} vectors (load average {load_average()})", flush=True)
    t = time.perf_counter()
    data = mixture.draw(n, seed=1)
    queries = mixture.draw(args.queries, seed=2)
    print(f"   generated in {time.perf_counter() - t:.1f}s", flush=True)
    nq_lat = min(len(queries), args.latency_queries)

    # Exact search: the ground truth, and the flat row.
    gc.collect()
    before = rss_mb()
    faiss.omp_set_num_threads(args.build_threads)
    t = time.perf_counter()
    flat = build_vector_index(data, approximate_above=n)  # n is not above n: flat
    build_s = time.perf_counter() - t
    rss_delta = rss_mb() - before
    _, truth = flat.search(queries, 10)  # batched: BLAS, all build threads
    faiss.omp_set_num_threads(args.search_threads)
    times = single_query_latency(flat, queries[:nq_lat], args.k)
    row = {"size": n, "index": "flat", "ef_search": None, "build_s": round(build_s, 2),
           "index_mb": round(index_bytes(flat) / 2**20, 1), "rss_delta_mb": round(rss_delta, 1),
           "p50_ms": round(percentile(times, 50) * 1000, 3),
           "p99_ms": round(percentile(times, 99) * 1000, 3), "recall@10": 1.0,
           "queries": len(times), "load": load_average()}
    out["results"].append(row)
    print_row(row)
    save()
    del flat
    gc.collect()

    if n > args.max_hnsw:
        print(f"   HNSW skipped above --max-hnsw {args.max_hnsw:,}", flush=True)
        return
    faiss.omp_set_num_threads(args.build_threads)
    before = rss_mb()
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(data.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80  # as rag.store built it before segments (IVF since)
    hnsw.hnsw.efSearch = 128
    hnsw.add(data)
    build_s = time.perf_counter() - t
    rss_delta = rss_mb() - before
    built_ef = hnsw.hnsw.efSearch
    size_mb = round(index_bytes(hnsw) / 2**20, 1)
    for ef in sorted(set(args.ef) | {built_ef}):
        hnsw.hnsw.efSearch = ef
        faiss.omp_set_num_threads(args.build_threads)
        _, found = hnsw.search(queries, 10)
        faiss.omp_set_num_threads(args.search_threads)
        times = single_query_latency(hnsw, queries[:nq_lat], args.k)
        row = {"size": n, "index": "hnsw", "ef_search": ef, "build_s": round(build_s, 2),
               "index_mb": size_mb, "rss_delta_mb": round(rss_delta, 1),
               "p50_ms": round(percentile(times, 50) * 1000, 3),
               "p99_ms": round(percentile(times, 99) * 1000, 3),
               "recall@10": round(recall_at(found, truth, 10), 4), "queries": len(times),
               "load": load_average(), "default_ef": ef == built_ef}
        out["results"].append(row)
        print_row(row)
        save()
    del hnsw, data
    gc.collect()


HEADER = (f"{'size':>10} {'index':<6} {'ef':>4} {'build s':>9} {'index MB':>9} "
          f"{'RSS+ MB':>8} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>9}")


def print_row(r: dict, header: bool = False) -> None:
    if header:
        print(HEADER)
    ef = "" if r["ef_search"] is None else r["ef_search"]
    print(f"{r['size']:>10,} {r['index']:<6} {ef:>4} {r['build_s']:>9.2f} {r['index_mb']:>9.1f} "
          f"{r['rss_delta_mb']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
          f"{r['recall@10']:>9.4f}", flush=True)


def recommend(rows: list[dict], target_ms: float) -> dict | None:
    """Flat search is a linear scan: fit p50 = a + b*n on the measured sizes and solve."""
    flat = [(r["size"], r["p50_ms"]) for r in rows if r["index"] == "flat"]
    if not flat:
        return None
    if len(flat) == 1:
        (n, ms), = flat
        b, a = ms / n, 0.0
    else:
        b, a = np.polyfit([n for n, _ in flat], [ms for _, ms in flat], 1)
    if b <= 0:
        return None
    n_star = (target_ms - a) / b
    return {"target_ms": target_ms, "ms_per_million": round(b * 1e6, 2),
            "intercept_ms": round(a, 3), "crossing_size": int(n_star),
            "suggested_approximate_above": int(round(n_star, -4))}


# ------------------------------------------------------------------ the real query path


def pipeline_latency(repeats: int, thread_variants: list[int]) -> dict:
    """The retriever on the seed index: embed + dense + BM25 + fusion, then evidence.

    Each variant sets torch's and FAISS's thread counts (0: their defaults, as the app runs).
    """
    import torch

    from rag.embedder import Embedder
    from rag.evaluate import load_questions
    from rag.evidence import EvidenceSelector
    from rag.ingest import Ingestor, load_index
    from rag.retriever import HybridRetriever

    settings = Settings.load()
    embedder = Embedder.from_settings(settings)
    defaults = (torch.get_num_threads(), FAISS_THREADS)
    result: dict = {"variants": []}
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings.with_values({"index_dir": f"{tmp}/index"})
        Ingestor(settings, embedder).ingest([ROOT / "seeds"])
        index = load_index(settings, embedder)
        retriever = HybridRetriever.from_settings(index, embedder, settings)
        questions = [i.question for i in load_questions(ROOT / "tests/questions/seeds.jsonl")]
        retriever.search("warm up", settings.top_k)  # builds BM25 once
        result.update(chunks=index.size, questions=len(questions), repeats=repeats)
        for threads in thread_variants:
            torch.set_num_threads(threads or defaults[0])
            faiss.omp_set_num_threads(threads or defaults[1])
            selector = EvidenceSelector.from_settings(embedder, settings)  # empty sentence cache
            stages: dict[str, list[float]] = {k: [] for k in
                                              ("embed", "dense", "lexical", "fusion", "search",
                                               "evidence", "evidence_cold")}
            for r in range(repeats):
                for q in questions:
                    t = time.perf_counter()
                    passages = retriever.search(q, settings.top_k)
                    stages["search"].append(time.perf_counter() - t)
                    for key in ("embed", "dense", "lexical", "fusion"):
                        stages[key].append(retriever.last_timings.get(key, 0.0))
                    t = time.perf_counter()
                    selector.select(q, passages, settings.evidence_sentences)
                    # the first pass embeds the sentences; later ones hit the selector's cache
                    stages["evidence_cold" if r == 0 else "evidence"].append(
                        time.perf_counter() - t)
            result["variants"].append({
                "threads": f"torch {torch.get_num_threads()}, faiss {faiss.omp_get_max_threads()}"
                           + (" (defaults)" if not threads else ""),
                "load": load_average(),
                "stages_ms": {k: {"p50": round(percentile(v, 50) * 1000, 2),
                                  "p99": round(percentile(v, 99) * 1000, 2), "n": len(v)}
                              for k, v in stages.items() if v}})
        torch.set_num_threads(defaults[0])
        faiss.omp_set_num_threads(defaults[1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--ef", type=int, nargs="*", default=[32, 64, 128],
                        help="efSearch values measured on each HNSW graph")
    parser.add_argument("--queries", type=int, default=1000, help="queries for recall")
    parser.add_argument("--latency-queries", type=int, default=300,
                        help="of those, timed one at a time")
    parser.add_argument("--k", type=int, default=Settings().candidates,
                        help="neighbours asked per timed query (the retriever's candidates)")
    parser.add_argument("--max-hnsw", type=int, default=10_000_000,
                        help="skip the HNSW build above this size")
    parser.add_argument("--threads", type=int, default=1,
                        help="FAISS threads for the timed single queries (0: FAISS's default, "
                             "all cores). 1 by default: on a busy machine OpenMP's threads wait "
                             "on each other and a 2-thread flat query was 5x slower than 1")
    parser.add_argument("--build-threads", type=int, default=0,
                        help="FAISS threads for building the indexes (0: all cores)")
    parser.add_argument("--target-ms", type=float, default=25.0,
                        help="flat p50 at which approximate search should take over")
    parser.add_argument("--pipeline-repeats", type=int, default=3,
                        help="passes over the seed questions for the real retriever (0: skip)")
    parser.add_argument("--pipeline-threads", type=int, nargs="*", default=[0, 1],
                        help="thread counts (torch and FAISS) for the real retriever; 0: defaults")
    parser.add_argument("--json", type=Path, help="write the results here (after every row)")
    args = parser.parse_args()

    default_threads = FAISS_THREADS
    args.search_threads = args.threads or default_threads
    args.build_threads = args.build_threads or default_threads
    out: dict = {"created": time.strftime("%Y-%m-%d %H:%M"), "dim": DIM,
                 "mixture": {"clusters": CLUSTERS, "noise_norm": NOISE},
                 "faiss": faiss.__version__, "search_threads": args.search_threads,
                 "build_threads": args.build_threads,
                 "cpus": os.cpu_count(), "k": args.k, "load_at_start": load_average(),
                 "results": []}

    def save() -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, indent=2))

    mixture = Mixture()
    print(f"faiss {faiss.__version__}, {args.search_threads} search / {args.build_threads} build "
          f"threads, load {load_average()}")
    print(HEADER)
    for n in args.sizes:
        measure_size(n, mixture, args, out, save)

    if args.pipeline_repeats:
        out["pipeline"] = pipeline_latency(args.pipeline_repeats, args.pipeline_threads)
        save()
    out["recommendation"] = recommend(out["results"], args.target_ms)
    out["load_at_end"] = load_average()
    save()

    print("\n" + HEADER)
    for r in out["results"]:
        print_row(r)
    if "pipeline" in out:
        p = out["pipeline"]
        print(f"\nreal retriever on the seed index ({p['chunks']} chunks, {p['questions']} "
              f"questions x {p['repeats']}):")
        for variant in p["variants"]:
            print(f"  threads: {variant['threads']}; load {variant['load']}")
            print(f"  {'stage':<14} {'p50 ms':>8} {'p99 ms':>8}")
            for stage, v in variant["stages_ms"].items():
                print(f"  {stage:<14} {v['p50']:>8.2f} {v['p99']:>8.2f}")
    rec = out["recommendation"]
    if rec:
        print(f"\nflat search costs {rec['ms_per_million']} ms per million vectors (p50); it "
              f"reaches {rec['target_ms']:.0f} ms at about {rec['crossing_size']:,} vectors: "
              f"approximate_above = {rec['suggested_approximate_above']:,}")
    print(f"load average: start {out['load_at_start']}, end {out['load_at_end']}")


if __name__ == "__main__":
    main()

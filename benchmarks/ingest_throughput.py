"""Ingestion throughput (chunks/s) and peak memory: the seeds, then synthetic corpora.

    .venv/bin/python benchmarks/ingest_throughput.py --synthetic 10000 --json reports/ingest.json

The synthetic corpus is made of sentences drawn from the seed articles, shuffled into
articles of about ten paragraphs, so chunks have the length and script of real news.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import Settings
from rag.embedder import Embedder
from rag.ingest import Ingestor
from rag.sentences import split_sentences


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_corpus(folder: Path, target_chunks: int, settings: Settings,
                     count_tokens) -> None:
    """Write articles of ten paragraphs, each paragraph sized to fill about one chunk."""
    sentences = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[a:b] for a, b in split_sentences(text) if b - a > 40]
    mean_tokens = sum(map(count_tokens, sentences)) / len(sentences)  # about 44 here
    per_paragraph = max(1, round((settings.chunk_tokens - settings.chunk_overlap_tokens)
                                 / mean_tokens))
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for article in range((target_chunks + 9) // 10):
        paragraphs = [" ".join(rng.choice(sentences) for _ in range(per_paragraph))
                      for _ in range(10)]
        body = f"مقال تجريبي رقم {article}\n\n" + "\n\n".join(paragraphs)
        (folder / f"synthetic_{article:06d}.txt").write_text(body, encoding="utf-8")


def progress(stage: str, done: int, total: int) -> None:
    print(f"\r  {stage}: {done:,}/{total:,}", end="\n" if done == total else "", flush=True)


def run(name: str, paths: list[Path], settings: Settings, embedder: Embedder) -> dict:
    started = time.perf_counter()
    report = Ingestor(settings, embedder).ingest(paths, progress=progress)
    seconds = time.perf_counter() - started
    return {"corpus": name, "files": len(report.files), "chunks": report.chunks,
            "seconds": round(seconds, 1), "chunks_per_s": round(report.chunks / seconds, 1),
            "peak_rss_mb": round(peak_rss_mb())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, nargs="*", default=[10_000],
                        help="sizes of synthetic corpora, in chunks (e.g. 10000 100000)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    settings = Settings.load()
    t = time.perf_counter()
    embedder = Embedder.from_settings(settings)
    print(f"embedding model loaded in {time.perf_counter() - t:.1f}s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run("seeds", [ROOT / "seeds"],
                        settings.with_values({"index_dir": f"{tmp}/seeds-index"}), embedder))
        print(rows[-1], flush=True)
        for size in args.synthetic:
            folder = Path(tmp) / f"synthetic-{size}"
            synthetic_corpus(folder, size, settings, embedder.count_tokens)
            rows.append(run(f"synthetic {size:,}", [folder],
                            settings.with_values({"index_dir": f"{tmp}/index-{size}"}),
                            embedder))
            print(rows[-1], flush=True)

    print(f"\n{'corpus':<20} {'files':>7} {'chunks':>8} {'seconds':>8} {'chunks/s':>9} "
          f"{'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['corpus']:<20} {r['files']:>7} {r['chunks']:>8} {r['seconds']:>8} "
              f"{r['chunks_per_s']:>9} {r['peak_rss_mb']:>12}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"created": time.strftime("%Y-%m-%d %H:%M"),
                                         "embedding_model": settings.embedding_model,
                                         "results": rows}, indent=2))


if __name__ == "__main__":
    main()

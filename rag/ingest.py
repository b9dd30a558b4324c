"""Ingestion: files -> cleaned documents -> chunks -> embeddings -> a new index version.

Files are keyed by file name: ingesting a file whose name is already indexed replaces its
documents when the content changed, and does nothing when it did not.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .chunker import Chunker
from .cleaner import ArticleCleaner
from .config import Settings
from .embedder import Embedder
from .errors import IndexStoreError, IngestError
from .loader import ArticleLoader, RejectedFile, iter_files
from .store import IndexData, IndexStore
from .types import Chunk, Document, FileOutcome, IngestReport, Progress

log = logging.getLogger(__name__)

CHUNKER_VERSION = 1  # bump when cleaning or chunking changes what an index holds
EMBED_BATCH = 32



def index_expectations(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """Manifest fields an index must share with the current settings to be usable."""
    return {
        "embedding_model": settings.embedding_model,
        "embedding_dim": embedder.dim,
        "chunker": {"version": CHUNKER_VERSION, "chunk_tokens": settings.chunk_tokens,
                    "overlap_tokens": settings.chunk_overlap_tokens},
    }


class Ingestor:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = IndexStore(settings.index_dir)
        self.loader = ArticleLoader(max_bytes=settings.max_file_mb * 2**20)
        self.cleaner = ArticleCleaner()
        self.chunker = Chunker(embedder.count_tokens, settings.chunk_tokens,
                               settings.chunk_overlap_tokens)

    def ingest(self, paths: Sequence[str | Path], prune: bool = False, rebuild: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Add new and changed files; with `prune`, remove indexed files no longer present."""
        started = time.perf_counter()
        report = IngestReport()
        with self.store.writer_lock():
            old = None if rebuild else self._load_existing()
            files = iter_files([Path(p) for p in paths])
            new_docs = self._read_files(files, old, report, progress)
            removed = set(new_docs)
            if prune and old is not None:
                present = {f.name for f in files if f.exists()}
                for name in sorted(set(old.by_file) - present):
                    removed.add(name)
                    report.files.append(FileOutcome(name, "removed"))
            if new_docs or removed or (old is None and rebuild):
                self._write(old, removed, new_docs, report, progress)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, names: Sequence[str]) -> IngestReport:
        """Remove documents by file name or doc id."""
        started = time.perf_counter()
        report = IngestReport()
        with self.store.writer_lock():
            old = self._load_existing()
            files = set()
            for name in names:
                matched = {n for n, ids in (old.by_file.items() if old else [])
                           if n == name or name in ids}
                files |= matched
                report.files.append(FileOutcome(name, "removed") if matched else
                                    FileOutcome(name, "rejected", "not in the index"))
            if files:
                self._write(old, files, {}, report, None)
        report.seconds = time.perf_counter() - started
        return report

    # ------------------------------------------------------------------------------------

    def _load_existing(self) -> IndexData | None:
        if not self.store.exists():
            return None
        return self.store.load(expect=index_expectations(self.settings, self.embedder),
                               mmap=False)

    def _read_files(self, files: list[Path], old: IndexData | None, report: IngestReport,
                    progress: Progress | None) -> dict[str, list[Document]]:
        """Load and clean each file; the outcome of each goes into `report`."""
        hashes = {}  # content hash -> file name, to catch one file under two names
        if old is not None:
            for doc in old.documents.values():
                hashes.setdefault(doc.content_hash, doc.source_file)
        new_docs: dict[str, list[Document]] = {}
        for i, path in enumerate(files):
            if progress:
                progress("reading files", i, len(files))
            name = path.name
            try:
                loaded = self.loader.load(path)
            except RejectedFile as e:
                report.files.append(FileOutcome(str(path), "rejected", str(e)))
                continue
            existing = old.by_file.get(name, []) if old else []
            if existing and old.documents[existing[0]].content_hash == loaded.sha256:
                report.files.append(FileOutcome(str(path), "unchanged",
                                                documents=len(existing)))
                continue
            twin = hashes.get(loaded.sha256)
            if twin is not None and twin != name:
                report.files.append(FileOutcome(str(path), "rejected",
                                                f"same content as {twin} (already indexed)"))
                continue
            if name in new_docs:
                report.files.append(FileOutcome(str(path), "rejected",
                                                f"another file named {name} is in this batch"))
                continue
            docs = self.cleaner.clean(loaded.text, name, loaded.sha256)
            if not docs:
                report.files.append(FileOutcome(str(path), "rejected",
                                                "no article text left after cleaning"))
                continue
            hashes[loaded.sha256] = name
            new_docs[name] = docs
            report.files.append(FileOutcome(str(path), "updated" if existing else "added",
                                            documents=len(docs)))
        if progress:
            progress("reading files", len(files), len(files))
        return new_docs

    def _write(self, old: IndexData | None, replaced: set[str],
               new_docs: dict[str, list[Document]], report: IngestReport,
               progress: Progress | None) -> None:
        documents: list[Document] = []
        chunks: list[Chunk] = []
        kept_rows: list[int] = []
        if old is not None:
            for doc in old.documents.values():
                if doc.source_file not in replaced:
                    documents.append(doc)
            kept_ids = {d.doc_id for d in documents}
            for chunk in old.chunks:
                if chunk.doc_id in kept_ids:
                    kept_rows.append(chunk.chunk_id)
                    chunks.append(Chunk(**{**chunk.to_dict(), "chunk_id": len(chunks)}))
        fresh: list[Chunk] = []
        per_file: dict[str, int] = {}
        for name, docs in new_docs.items():
            for doc in docs:
                pieces = self.chunker.split(doc, len(chunks) + len(fresh))
                fresh += pieces
                per_file[name] = per_file.get(name, 0) + len(pieces)
            documents += docs
        for outcome in report.files:
            outcome.chunks = per_file.get(Path(outcome.path).name, 0) \
                if outcome.status in ("added", "updated") else 0
        vectors = self._embed([c.text for c in fresh], progress)
        dim = self.embedder.dim
        kept = old.embeddings[kept_rows] if old is not None and kept_rows else \
            np.zeros((0, dim), dtype=np.float32)
        manifest = index_expectations(self.settings, self.embedder)
        manifest["sources"] = {n: old.documents[ids[0]].content_hash
                               for n, ids in (old.by_file.items() if old else [])
                               if n not in replaced}
        manifest["sources"].update({n: docs[0].content_hash for n, docs in new_docs.items()})
        try:
            self.store.write(manifest, documents, chunks + fresh, np.vstack([kept, vectors]),
                             self.settings.approximate_above)
        except (OSError, RuntimeError) as e:  # a full disk: OSError, or faiss's RuntimeError
            raise IngestError(f"Could not write the new index version in "
                              f"{self.settings.index_dir} ({_write_failure(e)}). The previous "
                              f"index is unchanged; free some disk space and run the ingest "
                              f"again.") from e

    def _embed(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            if progress:
                progress("embedding chunks", start, len(texts))
            parts.append(self.embedder.embed_passages(texts[start:start + EMBED_BATCH]))
        if progress:
            progress("embedding chunks", len(texts), len(texts))
        if not parts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.vstack(parts)


def _write_failure(error: BaseException) -> str:
    """'No space left on device', from an OSError or faiss's '... (No space left on device)'.
    numpy reports a short write without an errno ('27264 requested and 6112 written')."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    reason = re.search(r"\(([^()]+)\)\s*$", str(error))
    if reason:
        return reason.group(1)
    message = (str(error).strip().splitlines() or [type(error).__name__])[-1][-200:]
    return f"{message}: the disk may be full" if isinstance(error, OSError) else message


def load_index(settings: Settings, embedder: Embedder) -> IndexData:
    """The current index, checked against the settings (raises IndexStoreError if unusable)."""
    store = IndexStore(settings.index_dir)
    if not store.exists():
        raise IndexStoreError(f"No index in {settings.index_dir}. Build one with: "
                              f"rag ingest seeds/")
    return store.load(expect=index_expectations(settings, embedder))

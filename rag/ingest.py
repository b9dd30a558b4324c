"""Ingestion: files -> cleaned documents -> chunks -> embeddings -> a new index version.

Files are keyed by their absolute path (`source_key`): ingesting a file that is already
indexed replaces its documents when the content changed, and does nothing when it did not.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .chunker import Chunker
from .cleaner import ArticleCleaner
from .config import Settings
from .embedder import Embedder
from .errors import IndexStoreError, IngestError
from .loader import ArticleLoader, RejectedFile, find_files
from .milvus_store import MilvusIndex, open_index
from .store import IndexData, IndexStore
from .types import Chunk, Document, FileOutcome, IngestReport, Progress
from .version import IndexVersion

log = logging.getLogger(__name__)

CHUNKER_VERSION = 2  # bump when cleaning or chunking changes what an index holds (2: photo credits)
EMBED_BATCH = 32
CHARS_PER_TOKEN = 3  # Arabic news averages ~3.5 with e5's tokenizer: a safe upper estimate
SECONDS_PER_CHUNK = 0.03  # embedding on 2 cores (benchmarks/ingest_throughput.py)



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
               progress: Progress | None = None, allow_large: bool = False,
               keys: Mapping[Path, str] | None = None) -> IngestReport:
        """Add new and changed files; with `prune`, remove the indexed files that were inside
        the given folders and are no longer there (files from elsewhere are kept).

        A document is known by where it came from (`source_key`); `keys` names it otherwise
        (the app stages an upload in a temporary folder but keeps it in the uploads folder).
        """
        started = time.perf_counter()
        report = IngestReport()
        with self.store.writer_lock(self.settings.lock_wait_seconds, progress):
            old = None if rebuild else self._load_existing()
            found = find_files([Path(p) for p in paths], self.settings.follow_symlinks)
            report.files += [FileOutcome(str(p), "rejected", why) for p, why in found.skipped]
            keyed = {path: (keys or {}).get(path) or source_key(path) for path in found.files}
            new_docs, renamed = self._read_files(keyed, old, report, progress, allow_large)
            removed = set(new_docs)
            if prune and old is not None:
                folders = [source_key(Path(p)) + os.sep for p in paths if Path(p).is_dir()]
                present = set(keyed.values())
                for key in sorted(old.by_file):
                    if key.startswith(tuple(folders)) and key not in present:
                        removed.add(key)
                        report.files.append(FileOutcome(key, "removed"))
            if renamed:
                report.notes.append(f"{len(renamed)} documents from an older index were matched "
                                    f"by file name and are now known by their path.")
            if new_docs or removed or renamed or (old is None and rebuild):
                self._write(old, removed, new_docs, renamed, report, progress)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, names: Sequence[str]) -> IngestReport:
        """Remove documents by path, file name (when only one file has it) or doc id."""
        started = time.perf_counter()
        report = IngestReport()
        with self.store.writer_lock(self.settings.lock_wait_seconds):
            old = self._load_existing()
            files = set()
            for name in names:
                matched = _matching_keys(old, name) if old else set()
                if len(matched) > 1:
                    report.files.append(FileOutcome(name, "rejected", "several files have this "
                                                    "name; give one of their paths: " +
                                                    ", ".join(map(shown_key, sorted(matched)))))
                    continue
                files |= matched
                report.files.append(FileOutcome(name, "removed") if matched else
                                    FileOutcome(name, "rejected", "not in the index"))
            if files:
                self._write(old, files, {}, {}, report, None)
        report.seconds = time.perf_counter() - started
        return report

    # ------------------------------------------------------------------------------------

    def compact(self) -> IngestReport:
        """Merge the index's segments into one, dropping deleted documents for good (every
        ingest merges the small ones already; this also rewrites the largest)."""
        started = time.perf_counter()
        report = IngestReport()
        with self.store.writer_lock(self.settings.lock_wait_seconds):
            old = self._load_existing()
            if isinstance(old, IndexVersion):
                manifest = {**old.manifest, "sources": _sources(old, set(), [])}
                for key in ("format", "created", "chunks", "documents", "segments"):
                    manifest.pop(key, None)
                dim = self.embedder.dim
                self.store.write(manifest, [], [], np.zeros((0, dim), np.float32),
                                 self.settings.approximate_above, base=old, compact=True)
                report.notes.append(f"{len(old.segments)} segments merged into one")
        report.seconds = time.perf_counter() - started
        return report

    def _load_existing(self) -> IndexVersion | IndexData | MilvusIndex | None:
        expect = index_expectations(self.settings, self.embedder)
        if self.settings.vector_store == "milvus":
            index = open_index(self.settings)
            if not index.exists():
                return None
            index.check(expect)
            return index
        if not self.store.exists():
            return None
        return self.store.load(expect=expect)

    def _read_files(self, files: dict[Path, str], old: IndexVersion | IndexData | None,
                    report: IngestReport,
                    progress: Progress | None, allow_large: bool,
                    ) -> tuple[dict[str, list[Document]], dict[str, str]]:
        """Load and clean each file ({path: key}); the outcome of each goes into `report`.
        Returns the new documents by key, and {old name key: new path key} for documents of
        an older index (known by bare name) that the same file, unchanged, now claims."""
        hashes = _content_hashes(old) if old is not None else {}  # to catch one file twice
        new_docs: dict[str, list[Document]] = {}
        renamed: dict[str, str] = {}
        for i, (path, key) in enumerate(files.items()):
            if progress:
                progress("reading files", i, len(files))
            try:
                loaded = self.loader.load(path)
            except RejectedFile as e:
                report.files.append(FileOutcome(str(path), "rejected", str(e)))
                continue
            previous = _previous_key(old, key, path.name, renamed, new_docs) if old else None
            existing = old.by_file[previous] if previous else []
            if existing and old.documents[existing[0]].content_hash == loaded.sha256:
                if previous != key:
                    renamed[previous] = key
                report.files.append(FileOutcome(str(path), "unchanged",
                                                documents=len(existing)))
                continue
            twin = hashes.get(loaded.sha256)
            if twin is not None and twin not in (key, previous):
                report.files.append(FileOutcome(str(path), "rejected",
                                                f"same content as {shown_key(twin)} "
                                                f"(already indexed)"))
                continue
            if key in new_docs:
                report.files.append(FileOutcome(str(path), "rejected",
                                                f"{shown_key(key)} is twice in this batch"))
                continue
            chunks = self._estimated_chunks(loaded.text)
            if chunks > self.settings.max_chunks_per_file and not allow_large:
                report.files.append(FileOutcome(str(path), "rejected", (
                    f"about {chunks:,} passages, over the limit of "
                    f"{self.settings.max_chunks_per_file:,} a file (embedding them would take "
                    f"about {_duration(chunks * SECONDS_PER_CHUNK)}); rag ingest --allow-large "
                    f"takes it anyway")))
                continue
            docs = [replace(d, source_path=key) for d in
                    self.cleaner.clean(loaded.text, path.name, loaded.sha256)]
            if not docs:
                report.files.append(FileOutcome(str(path), "rejected",
                                                "no article text left after cleaning"))
                continue
            hashes[loaded.sha256] = key
            if previous and previous != key:
                new_docs[previous] = []  # the old name-keyed documents go; these replace them
            new_docs[key] = docs
            report.files.append(FileOutcome(str(path), "updated" if existing else "added",
                                            documents=len(docs), key=key))
        if progress:
            progress("reading files", len(files), len(files))
        return new_docs, renamed

    def _estimated_chunks(self, text: str) -> int:
        """Passages a text will make, from its length: cheap enough to ask before cleaning a
        48 MB file (counting its tokens would itself take minutes)."""
        step = max(1, self.settings.chunk_tokens - self.settings.chunk_overlap_tokens)
        return 1 + len(text) // (CHARS_PER_TOKEN * step)

    def _write(self, old: IndexVersion | IndexData | MilvusIndex | None, replaced: set[str],
               new_docs: dict[str, list[Document]], renamed: dict[str, str],
               report: IngestReport, progress: Progress | None) -> None:
        if self.settings.vector_store == "milvus":
            # A Milvus index has always known documents by their path: nothing is renamed.
            assert old is None or isinstance(old, MilvusIndex)
            self._write_milvus(old, replaced, new_docs, report, progress)
            return
        if isinstance(old, IndexVersion):
            self._write_segment(old, replaced, new_docs, renamed, report, progress)
            return
        # A first ingest, --rebuild, or an index of format 1 (rewritten once as a segment).
        assert old is None or isinstance(old, IndexData)
        documents: list[Document] = []
        chunks: list[Chunk] = []
        kept_rows: list[int] = []
        if old is not None:
            for doc in old.documents.values():
                if doc.key not in replaced:
                    documents.append(replace(doc, source_path=renamed[doc.key])
                                     if doc.key in renamed else doc)
            kept_ids = {d.doc_id for d in documents}
            for chunk in old.chunks:
                if chunk.doc_id in kept_ids:
                    kept_rows.append(chunk.chunk_id)
                    chunks.append(Chunk(**{**chunk.to_dict(), "chunk_id": len(chunks)}))
        fresh = self._chunk(new_docs, len(chunks), report)
        documents += [doc for docs in new_docs.values() for doc in docs]
        vectors = self._embed([c.text for c in fresh], progress)
        dim = self.embedder.dim
        kept = old.embeddings[kept_rows] if old is not None and kept_rows else \
            np.zeros((0, dim), dtype=np.float32)
        manifest = index_expectations(self.settings, self.embedder)
        manifest["sources"] = {d.key: d.content_hash for d in documents}
        self._publish(manifest, documents, chunks + fresh, np.vstack([kept, vectors]))

    def _write_segment(self, old: IndexVersion, replaced: set[str],
                       new_docs: dict[str, list[Document]], renamed: dict[str, str],
                       report: IngestReport, progress: Progress | None) -> None:
        """Only the changed files are written: a new segment of their documents, and the
        documents they replace become tombstones. Renamed documents are carried over."""
        moved = [doc_id for key in renamed for doc_id in old.by_file[key]]
        removed = {doc_id for key in replaced for doc_id in old.by_file.get(key, [])}
        carried, carried_chunks, carried_vectors = old.copy_of(moved)
        carried = [replace(d, source_path=renamed[d.key]) for d in carried]
        fresh = self._chunk(new_docs, len(carried_chunks), report)
        documents = carried + [doc for docs in new_docs.values() for doc in docs]
        vectors = self._embed([c.text for c in fresh], progress)
        manifest = index_expectations(self.settings, self.embedder)
        manifest["sources"] = _sources(old, removed | set(moved), documents)
        self._publish(manifest, documents, carried_chunks + fresh,
                      np.vstack([carried_vectors, vectors]), base=old,
                      removed=removed | set(moved))

    def _publish(self, manifest: dict[str, Any], documents: list[Document],
                 chunks: list[Chunk], vectors: np.ndarray, **incremental: Any) -> None:
        try:
            self.store.write(manifest, documents, chunks, vectors,
                             self.settings.approximate_above,
                             max_segments=self.settings.max_segments, **incremental)
        except (OSError, RuntimeError) as e:  # a full disk: OSError, or faiss's RuntimeError
            raise IngestError(f"Could not write the new index version in "
                              f"{self.settings.index_dir} ({_write_failure(e)}). The previous "
                              f"index is unchanged; free some disk space and run the ingest "
                              f"again.") from e

    def _write_milvus(self, old: MilvusIndex | None, replaced: set[str],
                      new_docs: dict[str, list[Document]], report: IngestReport,
                      progress: Progress | None) -> None:
        """Only the changed files' rows are written: Milvus adds and deletes in place."""
        fresh = self._chunk(new_docs, 0, report)
        vectors = self._embed([c.text for c in fresh], progress)
        index = old or open_index(self.settings)
        try:
            if old is None:  # a first ingest, or --rebuild: empty collections
                index.create(index_expectations(self.settings, self.embedder),
                             self.embedder.dim)
            index.replace(replaced, [d for docs in new_docs.values() for d in docs], fresh,
                          vectors)
        except IndexStoreError:
            raise
        except Exception as e:  # pymilvus's MilvusException, or the server unreachable
            raise IngestError(f"Could not write to the Milvus index at "
                              f"{self.settings.milvus_target} ({e}). Rows already written "
                              f"are kept; run the ingest again.") from e

    def _chunk(self, new_docs: dict[str, list[Document]], first_id: int,
               report: IngestReport) -> list[Chunk]:
        """The new documents' chunks, numbered from `first_id`; counts go into `report`."""
        fresh: list[Chunk] = []
        per_file: dict[str, int] = {}
        for key, docs in new_docs.items():
            for doc in docs:
                pieces = self.chunker.split(doc, first_id + len(fresh))
                fresh += pieces
                per_file[key] = per_file.get(key, 0) + len(pieces)
        for outcome in report.files:
            if outcome.status in ("added", "updated"):
                outcome.chunks = per_file.get(outcome.key, 0)
        return fresh

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


def source_key(path: Path) -> str:
    """A file's identity: its absolute path, with folder links resolved but not the file's own
    (a link's name is what the user put in the folder)."""
    return str(path.parent.resolve() / path.name)


def shown_key(key: str) -> str:
    """A document key as people read it: relative to the current folder when inside it."""
    relative = os.path.relpath(key) if os.path.isabs(key) else key
    return key if relative.startswith("..") else relative


def _content_hashes(index: IndexVersion | IndexData | MilvusIndex) -> dict[str, str]:
    """{content hash: document key} of an index's documents."""
    if isinstance(index, IndexVersion):
        return index.content_hashes()  # without reading every document's text
    hashes: dict[str, str] = {}
    for doc in index.documents.values():
        hashes.setdefault(doc.content_hash, doc.key)
    return hashes


def _sources(old: IndexVersion, removed: set[str], added: list[Document]) -> dict[str, str]:
    """The manifest's {document key: content hash} after a write."""
    sources = {entry.key: entry.content_hash for doc_id, (_, entry) in old.live.items()
               if doc_id not in removed}
    sources.update((d.key, d.content_hash) for d in added)
    return sources


def _previous_key(old: IndexVersion | IndexData, key: str, name: str, renamed: dict[str, str],
                  claimed: dict[str, list[Document]]) -> str | None:
    """The key the file is indexed under: its path, or, in an index written before paths were
    kept, its bare name (claimed by the first file of that name)."""
    if key in old.by_file:
        return key
    if name in old.by_file and name not in renamed and name not in claimed and \
            not old.documents[old.by_file[name][0]].source_path:
        return name
    return None


def _matching_keys(index: IndexVersion | IndexData, name: str) -> set[str]:
    """Keys a name given to `rag remove` means: a path (absolute or relative to here), a doc id,
    or a bare file name."""
    as_path = source_key(Path(name))
    if isinstance(index, IndexVersion):  # file names are in memory: no document is read
        file_name = {key: index.live[ids[0]][1].source_file for key, ids in index.by_file.items()}
    else:
        file_name = {key: index.documents[ids[0]].source_file for key, ids in index.by_file.items()}
    return {key for key, ids in index.by_file.items()
            if key == name or key == as_path or name in ids or file_name[key] == name}


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} hours" if seconds >= 5400 else \
        f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"


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


def index_version(settings: Settings) -> str | None:
    """The version a reader should hold; Milvus has one live collection, never reloaded."""
    if settings.vector_store == "milvus":
        return MilvusIndex.version
    return IndexStore(settings.index_dir).current_version()


def load_index(settings: Settings, embedder: Embedder) -> IndexVersion | IndexData | MilvusIndex:
    """The current index, checked against the settings (raises IndexStoreError if unusable)."""
    if settings.vector_store == "milvus":
        index = open_index(settings)
        index.check(index_expectations(settings, embedder))
        return index
    store = IndexStore(settings.index_dir)
    if not store.exists():
        raise IndexStoreError(f"No index in {settings.index_dir}. Build one with: "
                              f"rag ingest seeds/")
    return store.load(expect=index_expectations(settings, embedder))

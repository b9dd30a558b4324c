"""The persisted index: versions made of immutable segments, and the switch between them.

A version is a manifest in its own folder: the settings the index was built with, the
segments it is made of (rag.segment: vectors, texts, BM25 postings, under `segments/`) and the
documents of those segments it has deleted. Adding articles writes one new small segment and
a new manifest that lists the old segments plus it; removing writes only a manifest (the
documents become tombstones). When a version would list more than `max_segments`, the
writer merges every segment but the largest into the new one, dropping their deleted
documents; `rag compact` merges them all. Each write ends by switching the `CURRENT` pointer
with one atomic rename, so a crash at any point (Ctrl-C, kill -9, a full disk) leaves either
the old or the new version in force, never a mix; a reader that has loaded a version keeps a
consistent view while a writer works (segment files are never changed, only removed once no
current or previous version lists them). Each file's size and sha256 are recorded at write;
loading checks sizes, and hashes whole files up to 32 MB (larger ones by their first and last
MiB); `rag check-index` hashes everything. Versions of format 1 (one folder of files, from
before segments) still load; the next ingest rewrites them as one segment.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import faiss
import numpy as np

from .errors import REBUILD_HINT, IndexStoreError
from .files import fsync_dir, write_atomic
from .lexical import LexicalIndex
from .segment import damaged_files, load_segment, write_segment
from .types import Chunk, Document, Progress
from .version import IndexVersion

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: segments; 1: one folder of files per version (still read)
LEGACY_FORMAT = 1
VERSION_NAME = re.compile(r"v\d{8}-\d{6}-\d+-\d+")
LOAD_ATTEMPTS = 3  # reads of CURRENT while writers keep switching it
LOCK_POLL_SECONDS = 0.5
WAITING = "waiting for the index"  # the progress stage while another process writes
LEXICAL_DIR = "bm25"  # a format-1 version's BM25 index (bm25s files); absent in older ones
SEGMENTS = "segments"  # the folder of every version's segments
SEGMENT_NAME = re.compile(r"s\d{8}-\d{6}-\d+-\d+")


@dataclass
class IndexData:
    """An index held in memory: a version of format 1 as read, or one built by a benchmark or
    a test (the FAISS index may be memory-mapped)."""

    manifest: dict[str, Any]
    documents: dict[str, Document]  # by doc_id
    chunks: list[Chunk]  # chunk.chunk_id == position == row in `vectors`
    embeddings: np.ndarray  # float32 [n, dim], L2-normalized
    vectors: faiss.Index | None = None
    version: str = ""
    by_file: dict[str, list[str]] = field(default_factory=dict)  # Document.key -> doc_ids
    lexical_index: LexicalIndex | None = None  # as saved with the version; else built once

    def __post_init__(self) -> None:
        self.by_file = {}
        for doc in self.documents.values():
            self.by_file.setdefault(doc.key, []).append(doc.doc_id)

    @property
    def size(self) -> int:
        return len(self.chunks)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.chunks if c.doc_id == doc_id]

    # ------------------------------------------------- where HybridRetriever gets candidates

    @property
    def lexical(self) -> LexicalIndex:
        """The version's BM25 index. A version written before BM25 was saved with it (or an
        index built in memory) gets one built here, once."""
        if self.lexical_index is None:
            started = time.perf_counter()
            self.lexical_index = LexicalIndex([c.text for c in self.chunks])
            log.info("BM25 index over %d chunks built in %.2fs (index version %s has none "
                     "saved; the next ingest saves one)", self.size,
                     time.perf_counter() - started, self.version or "in memory")
        return self.lexical_index

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        if self.vectors is None or self.vectors.ntotal == 0:
            return []
        q = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(1, -1)
        scores, rows = self.vectors.search(q, min(n, self.vectors.ntotal))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.lexical.search(query, n)

    def chunks_at(self, rows: list[int]) -> dict[int, Chunk]:
        return {row: self.chunks[row] for row in rows}

    def documents_of(self, doc_ids: set[str]) -> dict[str, Document]:
        return {doc_id: self.documents[doc_id] for doc_id in doc_ids}

    def chunks_per_document(self) -> dict[str, int]:
        return dict(Counter(c.doc_id for c in self.chunks))


class IndexStore:
    """Reads and writes index versions under one folder."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    # ------------------------------------------------------------------ reading

    def current_version(self) -> str | None:
        self._check_folder()
        try:
            name = (self.index_dir / "CURRENT").read_bytes().decode("ascii").strip()
        except FileNotFoundError:
            return None
        except (UnicodeDecodeError, OSError) as e:
            raise IndexStoreError(f"The index in {self.index_dir} is damaged: its CURRENT file "
                                  f"does not name a version ({e.__class__.__name__}). "
                                  f"{REBUILD_HINT}") from None
        if name and not VERSION_NAME.fullmatch(name):
            raise IndexStoreError(f"The index in {self.index_dir} is damaged: its CURRENT file "
                                  f"does not name a version. {REBUILD_HINT}")
        return name or None

    def _check_folder(self) -> None:
        if self.index_dir.exists() and not self.index_dir.is_dir():
            raise IndexStoreError(f"The index folder {self.index_dir} is a file, not a folder. "
                                  f"Point index_dir (RAG_INDEX_DIR) at a folder; it is created "
                                  f"if missing.")

    def exists(self) -> bool:
        return self.current_version() is not None

    def load(self, expect: dict[str, Any] | None = None, mmap: bool = True
             ) -> IndexVersion | IndexData:
        """Load the current version. `expect` holds manifest fields that must match (the
        embedding model and chunker settings); a mismatch is refused with a rebuild hint.

        A writer may switch `CURRENT` and remove an old version while this reads it: when a
        version's files fail to read and `CURRENT` has moved on meanwhile, the new one is read
        instead. Only a version that fails while still current is reported damaged."""
        for _ in range(LOAD_ATTEMPTS - 1):
            version = self.current_version()
            try:
                return self._load_version(version, expect, mmap)
            except IndexStoreError:
                if self.current_version() == version:
                    raise
                log.info("index version %s was replaced while loading; loading the new one",
                         version)
        return self._load_version(self.current_version(), expect, mmap)

    def _load_version(self, version: str | None, expect: dict[str, Any] | None,
                      mmap: bool) -> IndexVersion | IndexData:
        if version is None:
            raise IndexStoreError(f"No index in {self.index_dir}. Build one with: "
                                  f"rag ingest seeds/")
        folder = self.index_dir / version
        manifest = self._manifest(version)
        if manifest.get("format") not in (FORMAT_VERSION, LEGACY_FORMAT):
            raise IndexStoreError(f"The index in {self.index_dir} has format "
                                  f"{manifest.get('format')}, this version reads "
                                  f"{FORMAT_VERSION} and {LEGACY_FORMAT}. {REBUILD_HINT}")
        for key, wanted in (expect or {}).items():
            if manifest.get(key) != wanted:
                raise IndexStoreError(
                    f"The index was built with {key} = {manifest.get(key)!r}, but the settings "
                    f"now say {wanted!r}. {REBUILD_HINT}")
        if manifest["format"] == FORMAT_VERSION:
            return self._load_segments(version, manifest, mmap)
        return self._load_legacy(folder, version, manifest, mmap)

    def _manifest(self, version: str) -> dict[str, Any]:
        try:
            path = self.index_dir / version / "manifest.json"
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexStoreError(f"The index in {self.index_dir} is damaged (its manifest "
                                  f"cannot be read: {_plain(e)}). {REBUILD_HINT}") from e

    def _load_segments(self, version: str, manifest: dict[str, Any], mmap: bool
                       ) -> IndexVersion:
        segments = []
        for entry in manifest["segments"]:
            folder = self.index_dir / SEGMENTS / entry["id"]
            try:
                segments.append(load_segment(folder, entry["files"], mmap))
            except Exception as e:
                if not isinstance(e, ValueError):  # not found damaged by the check: say more
                    log.warning("reading index segment %s failed: %s", entry["id"], e)
                raise IndexStoreError(f"The index in {self.index_dir} is damaged ({_plain(e)})."
                                      f" {REBUILD_HINT}") from e
        return IndexVersion(manifest, version, segments,
                            {e["id"]: set(e["deleted"]) for e in manifest["segments"]})

    def _load_legacy(self, folder: Path, version: str, manifest: dict[str, Any], mmap: bool
                     ) -> IndexData:
        """A version of format 1: every file read whole, as before segments."""
        self._verify_files(folder, manifest)
        try:
            documents = {d["doc_id"]: Document(**d) for d in
                         json.loads((folder / "documents.json").read_text(encoding="utf-8"))}
            chunks = [Chunk(**c) for c in
                      json.loads((folder / "chunks.json").read_text(encoding="utf-8"))]
            embeddings = np.load(folder / "embeddings.npy", mmap_mode="r" if mmap else None)
            flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
            vectors = faiss.read_index(str(folder / "vectors.faiss"), flags)
            lexical = LexicalIndex.load(folder / LEXICAL_DIR, mmap=mmap) \
                if (folder / LEXICAL_DIR).is_dir() else None
        except Exception as e:
            log.warning("reading index version %s failed: %s", version, e)
            raise IndexStoreError(f"The index in {self.index_dir} is damaged (a file of it "
                                  f"cannot be read: {_plain(e)}). {REBUILD_HINT}") from e
        if vectors.ntotal != len(chunks) or len(embeddings) != len(chunks):
            raise IndexStoreError(f"The index in {self.index_dir} is inconsistent "
                                  f"({vectors.ntotal} vectors, {len(chunks)} chunks). "
                                  f"{REBUILD_HINT}")
        if lexical is not None and lexical.size != len(chunks):
            raise IndexStoreError(f"The index in {self.index_dir} is inconsistent "
                                  f"(BM25 over {lexical.size} chunks, {len(chunks)} chunks). "
                                  f"{REBUILD_HINT}")
        return IndexData(manifest, documents, chunks, embeddings, vectors, version,
                         lexical_index=lexical)

    def _verify_files(self, folder: Path, manifest: dict[str, Any]) -> None:
        bad = damaged_files(folder, manifest.get("files", {}), full=True)
        if bad:
            raise IndexStoreError(f"The index file {bad[0]} is missing, truncated or "
                                  f"corrupted. {REBUILD_HINT}")

    def verify(self) -> list[Path]:
        """Hash every byte of the current version's files against the manifest (loading
        checks only sizes and the edges of large files); the damaged ones."""
        version = self.current_version()
        if version is None:
            return []
        manifest = self._manifest(version)
        if manifest.get("format") == LEGACY_FORMAT:
            return damaged_files(self.index_dir / version, manifest["files"], full=True)
        return [path for entry in manifest["segments"]
                for path in damaged_files(self.index_dir / SEGMENTS / entry["id"],
                                          entry["files"], full=True)]

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writer_lock(self, wait_seconds: float = 600.0,
                    progress: Progress | None = None) -> Iterator[None]:
        """One writer at a time, across processes (the app and the CLI may both ingest).

        A writer that has to wait says who it waits for (through `progress` and the log) and
        gives up after `wait_seconds`. The holder's pid, command and start time are written
        into the lock file for that purpose."""
        self._check_folder()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with (self.index_dir / ".lock").open("a+") as f:
            waited = _acquire(f, wait_seconds, progress)
            try:
                f.seek(0)
                f.truncate()
                f.write(json.dumps({"pid": os.getpid(), "command": _command(),
                                    "since": time.strftime("%H:%M:%S")}))
                f.flush()
                if waited:
                    log.info("the index lock was free after %.0f s", waited)
                self._remove_leftovers()
                yield
            finally:
                f.seek(0)
                f.truncate()
                fcntl.flock(f, fcntl.LOCK_UN)

    def clean_leftovers(self) -> None:
        """Remove what killed writers left behind, if no writer is at work now (at start-up)."""
        if not (self.index_dir / ".lock").is_file():
            return
        with (self.index_dir / ".lock").open("a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a writer is at work: its temporary folder is not a leftover
            try:
                self._remove_leftovers()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def write(self, manifest: dict[str, Any], documents: list[Document], chunks: list[Chunk],
              embeddings: np.ndarray, approximate_above: int, *,
              base: IndexVersion | None = None, removed: Collection[str] = (),
              max_segments: int = 0, compact: bool = False) -> str:
        """Write a new version and make it current. Call under `writer_lock()`.

        Without `base` the version is these documents alone. With it, the version is `base`'s
        segments, less the documents `removed` (doc ids), plus a new segment of these
        documents (chunks numbered from 0, in row order; none: no new segment). When that
        would make more than `max_segments` (0: no limit), or with `compact`, the segments
        other than the largest (all of them with `compact`) are merged into the new one."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        previous = self.current_version()
        version = _new_name("v")
        deleted = {sid: set(docs) for sid, docs in base.deleted_docs.items()} if base else {}
        for doc_id in removed:
            deleted[base.segment_of_document(doc_id)].add(doc_id)  # type: ignore[union-attr]
        kept = [(i, s) for i, s in enumerate(base.segments)
                if len(deleted[s.segment_id]) < len(s.catalogue)] if base else []
        merged = _to_merge(base, kept, max_segments, compact, adding=bool(documents))
        if merged:
            carried = base.copy_of([d for d in base.documents_in(merged)  # type: ignore[union-attr]
                                    if d not in removed])
            documents, chunks, embeddings = _join(carried, (documents, chunks, embeddings))
        segments = [{"id": s.segment_id, "chunks": s.size, "documents": len(s.catalogue),
                     "files": base.manifest["segments"][i]["files"],  # type: ignore[union-attr]
                     "deleted": sorted(deleted[s.segment_id])}
                    for i, s in kept if s.segment_id not in merged]
        if chunks or documents:
            segments.append(self._write_segment(documents, chunks, embeddings,
                                                approximate_above))
        try:
            live_chunks = sum(e["chunks"] for e in segments)
            manifest = {**manifest, "format": FORMAT_VERSION, "created": time.time(),
                        "chunks": live_chunks - _deleted_chunks(base, segments),
                        "documents": sum(e["documents"] - len(e["deleted"]) for e in segments),
                        "segments": segments}
            tmp = self.index_dir / f".tmp-{version}"
            tmp.mkdir()
            write_atomic(tmp / "manifest.json",
                         json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
            os.replace(tmp, self.index_dir / version)
            fsync_dir(self.index_dir)
            write_atomic(self.index_dir / "CURRENT", version.encode())  # the switch
            fsync_dir(self.index_dir)
        except BaseException:
            shutil.rmtree(self.index_dir / f".tmp-{version}", ignore_errors=True)
            raise
        # The version just replaced stays: a reader that read CURRENT just before the switch
        # may still be opening its files. Older ones go, with the segments only they listed.
        write_atomic(self.index_dir / "PREVIOUS", (previous or "").encode())
        self._remove_leftovers()
        log.info("index version %s written: %d segments (%d merged), %d documents, %d chunks",
                 version, len(segments), len(merged), manifest["documents"], manifest["chunks"])
        return version

    def _write_segment(self, documents: list[Document], chunks: list[Chunk],
                       embeddings: np.ndarray, approximate_above: int) -> dict[str, Any]:
        """Write a segment under segments/ (through a temporary folder) and describe it."""
        name = _new_name("s")
        folder = self.index_dir / SEGMENTS
        folder.mkdir(exist_ok=True)
        tmp = folder / f".tmp-{name}"
        try:
            files = write_segment(tmp, documents, chunks, embeddings, approximate_above)
            os.replace(tmp, folder / name)
            fsync_dir(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return {"id": name, "chunks": len(chunks), "documents": len(documents),
                "files": files, "deleted": []}

    def _remove_leftovers(self) -> None:
        """Temporary folders of interrupted writes, versions that are neither current nor
        the previous one, and segments that neither lists. Call with the writer lock held."""
        try:
            current = self.current_version()
        except IndexStoreError:
            return  # a damaged pointer: keep every version, something may be recoverable
        try:
            previous = (self.index_dir / "PREVIOUS").read_bytes().decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            previous = ""
        for path in self.index_dir.iterdir():
            if path.is_dir() and path.name not in (current, previous) and (
                    VERSION_NAME.fullmatch(path.name) or path.name.startswith(".tmp-v")):
                shutil.rmtree(path, ignore_errors=True)
                log.info("removed %s (an old or unfinished index version)", path.name)
        listed: set[str] = set()
        for version in filter(None, (current, previous)):
            try:
                listed |= {e["id"] for e in self._manifest(version).get("segments", [])}
            except (IndexStoreError, KeyError, TypeError):
                return  # a version we cannot read: keep every segment
        folder = self.index_dir / SEGMENTS
        for path in folder.iterdir() if folder.is_dir() else []:
            if path.is_dir() and path.name not in listed and (
                    SEGMENT_NAME.fullmatch(path.name) or path.name.startswith(".tmp-s")):
                shutil.rmtree(path, ignore_errors=True)
                log.info("removed segment %s (no current or previous version lists it)",
                         path.name)


def _new_name(prefix: str) -> str:
    return time.strftime(f"{prefix}%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns()}"


def _to_merge(base: IndexVersion | None, kept: list[tuple[int, Any]], max_segments: int,
              compact: bool, adding: bool) -> set[str]:
    """The segments whose live documents go into the new segment: all with `compact`; all
    but the largest when the version would list more than `max_segments`. Merging the small
    ones keeps each write's cost near the size of what it adds (a tiered merge in one tier)."""
    if base is None or not kept:
        return set()
    if compact:
        return {s.segment_id for _, s in kept}
    if not max_segments or len(kept) + adding <= max_segments:
        return set()
    largest = max(kept, key=lambda item: base.live_chunks(item[0]))[1]
    return {s.segment_id for _, s in kept if s is not largest}


def _join(*parts: tuple[list[Document], list[Chunk], np.ndarray]
          ) -> tuple[list[Document], list[Chunk], np.ndarray]:
    """Documents, chunks (renumbered in order) and vectors of several parts, as one."""
    documents = [d for part in parts for d in part[0]]
    chunks = []
    for part in parts:
        for chunk in part[1]:
            chunks.append(Chunk(**{**chunk.to_dict(), "chunk_id": len(chunks)}))
    vectors = [np.asarray(part[2], dtype=np.float32) for part in parts if len(part[2])]
    dim = parts[0][2].shape[1] if parts and parts[0][2].ndim == 2 else 0
    return documents, chunks, np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32)


def _deleted_chunks(base: IndexVersion | None, segments: list[dict[str, Any]]) -> int:
    """Chunks of the listed segments that their `deleted` documents hold."""
    if base is None:
        return 0
    by_id = {s.segment_id: s for s in base.segments}
    return sum(by_id[e["id"]].catalogue[d].rows for e in segments if e["id"] in by_id
               for d in e["deleted"])


def _acquire(lock_file: IO[str], wait_seconds: float, progress: Progress | None) -> float:
    """Take the lock, waiting at most `wait_seconds`; the seconds waited."""
    started = time.monotonic()
    said = False
    while True:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return time.monotonic() - started
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        holder = _holder(lock_file)
        if waited >= wait_seconds:
            raise IndexStoreError(f"Another process is still writing the index ({holder}); "
                                  f"gave up after {waited:.0f} s. Try again when it has "
                                  f"finished, or raise lock_wait_seconds.")
        if not said:
            log.warning("waiting for another process writing the index: %s", holder)
            said = True
        if progress:  # in seconds waited, of the most it waits
            progress(WAITING, int(waited), int(wait_seconds))
        time.sleep(LOCK_POLL_SECONDS)


def _holder(lock_file: IO[str]) -> str:
    try:
        lock_file.seek(0)
        info = json.loads(lock_file.read() or "{}")
        return (f"pid {int(info['pid'])}, {str(info['command'])[:80]}, "
                f"since {str(info['since'])[:8]}")
    except (ValueError, KeyError, TypeError, OSError):
        return "a process that did not say who it is"


def _command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:3]])


def _plain(error: BaseException) -> str:
    """An exception's message without FAISS's C++ trace ('Error in ... at /project/faiss/...')."""
    text = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return re.sub(r"^Error in .*? at \S+:\d+:\s*", "", text)[:200]

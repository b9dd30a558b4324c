"""The persisted index: FAISS vectors, BM25, chunk and document metadata, and a manifest.

Every write builds a complete new version in its own folder and then switches the `CURRENT`
pointer with one atomic rename. A crash at any point (Ctrl-C, kill -9, a full disk) therefore
leaves either the old or the new version in force, never a mix, and a reader that has loaded
a version keeps a consistent view while a writer works. Each file's sha256 is recorded in the
manifest and checked on load, so a truncated or corrupted file is caught with a clear message.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import faiss
import numpy as np

from .errors import IndexStoreError
from .files import fsync_dir, fsync_file, sha256_of, write_atomic
from .lexical import LexicalIndex
from .types import Chunk, Document, Progress

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REBUILD_HINT = "Rebuild it with: rag ingest --rebuild seeds/ (or your article folder)"
VERSION_NAME = re.compile(r"v\d{8}-\d{6}-\d+-\d+")
LOAD_ATTEMPTS = 3  # reads of CURRENT while writers keep switching it
LOCK_POLL_SECONDS = 0.5
WAITING = "waiting for the index"  # the progress stage while another process writes
LEXICAL_DIR = "bm25"  # the version's BM25 index (bm25s files); absent in versions before it


@dataclass
class IndexData:
    """Everything one index version holds, in memory (the FAISS index may be memory-mapped)."""

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


def build_vector_index(embeddings: np.ndarray, approximate_above: int) -> faiss.Index:
    """Exact inner-product search; HNSW once the corpus is large enough that exact search
    becomes the slow part (the threshold is measured in benchmarks/retrieval_scale.py)."""
    dim = embeddings.shape[1]
    if len(embeddings) > approximate_above:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128  # recall@10 0.98 against flat at 1M vectors, 0.5 ms
    else:
        index = faiss.IndexFlatIP(dim)
    if len(embeddings):
        index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


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

    def load(self, expect: dict[str, Any] | None = None, mmap: bool = True) -> IndexData:
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
                      mmap: bool) -> IndexData:
        if version is None:
            raise IndexStoreError(f"No index in {self.index_dir}. Build one with: "
                                  f"rag ingest seeds/")
        folder = self.index_dir / version
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexStoreError(f"The index in {self.index_dir} is damaged (its manifest "
                                  f"cannot be read: {_plain(e)}). {REBUILD_HINT}") from e
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexStoreError(f"The index in {self.index_dir} has format "
                                  f"{manifest.get('format')}, this version reads "
                                  f"{FORMAT_VERSION}. {REBUILD_HINT}")
        for key, wanted in (expect or {}).items():
            if manifest.get(key) != wanted:
                raise IndexStoreError(
                    f"The index was built with {key} = {manifest.get(key)!r}, but the settings "
                    f"now say {wanted!r}. {REBUILD_HINT}")
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
        for name, (size, digest) in manifest.get("files", {}).items():
            path = folder / name
            if not path.is_file() or path.stat().st_size != size or sha256_of(path) != digest:
                raise IndexStoreError(f"The index file {path} is missing, truncated or "
                                      f"corrupted. {REBUILD_HINT}")

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
              embeddings: np.ndarray, approximate_above: int) -> str:
        """Write a new version and make it current. Call under `writer_lock()`."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        previous = self.current_version()
        version = time.strftime("v%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns()}"
        tmp = self.index_dir / f".tmp-{version}"
        tmp.mkdir()
        try:
            embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
            write_atomic(tmp / "documents.json",
                         json.dumps([d.to_dict() for d in documents], ensure_ascii=False)
                         .encode("utf-8"))
            write_atomic(tmp / "chunks.json",
                         json.dumps([c.to_dict() for c in chunks], ensure_ascii=False)
                         .encode("utf-8"))
            with (tmp / "embeddings.npy").open("wb") as f:
                np.save(f, embeddings)
                f.flush()
                os.fsync(f.fileno())
            faiss.write_index(build_vector_index(embeddings, approximate_above),
                              str(tmp / "vectors.faiss"))
            # Scored once here, so that no reader tokenizes the corpus (1.6 ms a chunk).
            LexicalIndex([c.text for c in chunks]).save(tmp / LEXICAL_DIR)
            written = sorted(p for p in tmp.rglob("*") if p.is_file())
            for path in written:
                fsync_file(path)
            fsync_dir(tmp / LEXICAL_DIR)
            files = {p.relative_to(tmp).as_posix(): [p.stat().st_size, sha256_of(p)]
                     for p in written}
            manifest = {**manifest, "format": FORMAT_VERSION, "created": time.time(),
                        "chunks": len(chunks), "documents": len(documents), "files": files}
            write_atomic(tmp / "manifest.json",
                         json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
            os.replace(tmp, self.index_dir / version)
            fsync_dir(self.index_dir)
            write_atomic(self.index_dir / "CURRENT", version.encode())  # the switch
            fsync_dir(self.index_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # The version just replaced stays: a reader that read CURRENT just before the switch
        # may still be opening its files. Older ones go.
        write_atomic(self.index_dir / "PREVIOUS", (previous or "").encode())
        self._remove_leftovers()
        log.info("index version %s written: %d documents, %d chunks", version, len(documents),
                 len(chunks))
        return version

    def _remove_leftovers(self) -> None:
        """Temporary folders of interrupted writes and versions that are neither current nor
        the previous one. Call with the writer lock held."""
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

"""One immutable segment of the index: some documents' chunks, with their vectors, texts and
BM25 postings, in a folder of its own under `<index_dir>/segments/`.

An index version lists the segments it is made of (rag.store), so adding an article writes
one small segment and a manifest, and a reader that loads the new version loads only the
segments it does not hold yet: `load_segment` keeps each one by its folder while any version
in the process uses it. Texts and metadata stay on disk (SQLite, read per search); vectors and
postings are memory-mapped. In memory a segment keeps only a small entry per document.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import faiss
import numpy as np

from .errors import REBUILD_HINT, IndexStoreError
from .files import fsync_dir, fsync_file, sha256_of
from .postings import Postings
from .types import Chunk, Document

log = logging.getLogger(__name__)

VECTORS = "vectors.faiss"
EMBEDDINGS = "embeddings.npy"  # the same vectors as a plain array: what merges copy from
TEXTS = "texts.sqlite"
POSTINGS = "postings"
# At load a file is checked whole (sha256) up to this size; a larger one by its size and the
# sha256 of its first and last MiB, so that loading a million chunks does not read 5 GB.
# `rag check-index` reads every byte (IndexStore.verify).
FULL_CHECK_BYTES = 32 << 20
EDGE_BYTES = 1 << 20
# IVF above `approximate_above` vectors: sqrt(n) lists trained on a sample of 40 a list, 32
# of them probed per search (reports/index_growth.json: build, recall@10 and p50 at 1M).
# It replaced HNSW, whose build took 472 s at 1M: a segment merge must stay cheap.
IVF_PROBES = 32
IVF_SAMPLE_PER_LIST = 40

_DOCUMENT_COLUMNS = [f.name for f in fields(Document)]


def build_vector_index(embeddings: np.ndarray, approximate_above: int) -> faiss.Index:
    """Exact inner-product search; IVF once the segment is large enough that exact search
    becomes the slow part (~60 ms per million vectors here)."""
    n, dim = embeddings.shape
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    if n > approximate_above:
        lists = max(1, int(np.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(n, min(n, lists * IVF_SAMPLE_PER_LIST),
                                                 replace=False)
        index.train(embeddings[np.sort(sample)])
        index.nprobe = IVF_PROBES
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(embeddings)
    return index


@dataclass(frozen=True)
class DocEntry:
    """What a reader keeps in memory of a document: where its chunks are, no text."""

    doc_id: str
    key: str
    source_file: str
    source_path: str
    content_hash: str
    first_row: int
    rows: int


class Deleted:
    """A version's deleted rows of one segment, as a mask (BM25) and a FAISS selector."""

    def __init__(self, rows: np.ndarray, size: int) -> None:
        self.rows = np.unique(rows.astype(np.int64))
        self.mask = np.zeros(size, dtype=bool)
        self.mask[self.rows] = True
        self._batch = faiss.IDSelectorBatch(self.rows)  # referenced by the selector below
        self.selector = faiss.IDSelectorNot(self._batch)


class Segment:
    """A loaded segment; rows are local (0 .. size-1)."""

    def __init__(self, segment_id: str, folder: Path, vectors: faiss.Index,
                 embeddings: np.ndarray, postings: Postings, db: sqlite3.Connection) -> None:
        self.segment_id = segment_id
        self.folder = folder
        self.vectors = vectors
        self.embeddings = embeddings
        self.postings = postings
        self._db = db
        weakref.finalize(self, db.close)  # the connection's own cycles would keep it open
        self._lock = threading.Lock()  # one connection, shared by the app's threads
        self.catalogue = {row[0]: DocEntry(row[0], row[2] or row[1], *row[1:])
                          for row in self._query("SELECT doc_id, source_file, source_path, "
                                                 "content_hash, first_row, rows FROM documents "
                                                 "ORDER BY first_row")}

    @property
    def size(self) -> int:
        return self.postings.size

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as e:  # damaged after it was loaded and checked
            raise IndexStoreError(f"The index segment {self.folder} is damaged ({e}). "
                                  f"{REBUILD_HINT}") from e

    def dense_search(self, query: np.ndarray, n: int, deleted: Deleted | None
                     ) -> list[tuple[int, float]]:
        live = self.vectors.ntotal - (len(deleted.rows) if deleted else 0)
        if live <= 0 or n <= 0:
            return []
        params = None
        if deleted is not None:
            params = faiss.SearchParametersIVF(sel=deleted.selector, nprobe=self.vectors.nprobe) \
                if isinstance(self.vectors, faiss.IndexIVF) else \
                faiss.SearchParameters(sel=deleted.selector)
        scores, rows = self.vectors.search(query.reshape(1, -1), min(n, live), params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def chunks(self, rows: Iterable[int]) -> dict[int, Chunk]:
        """Chunks by local row; their chunk_id is the local row."""
        rows = list(rows)
        found: dict[int, Chunk] = {}
        for part in range(0, len(rows), 900):  # SQLite's limit of bound parameters
            batch = rows[part:part + 900]
            for row in self._query("SELECT row, doc_id, text, start_char, end_char, paragraph "
                                   f"FROM chunks WHERE row IN ({','.join('?' * len(batch))})",
                                   batch):
                found[row[0]] = Chunk(*row)
        return found

    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        ids = list(doc_ids)
        found: dict[str, Document] = {}
        for part in range(0, len(ids), 900):
            batch = ids[part:part + 900]
            for row in self._query(f"SELECT {', '.join(_DOCUMENT_COLUMNS)} FROM documents "
                                   f"WHERE doc_id IN ({','.join('?' * len(batch))})", batch):
                found[row[0]] = Document(*row)
        return found


def write_segment(folder: Path, documents: Sequence[Document], chunks: Sequence[Chunk],
                  embeddings: np.ndarray, approximate_above: int) -> dict[str, list]:
    """Write a segment's files into `folder` (created) and flush them to disk. Chunks are
    in row order, each document's together. Returns {file: [size, sha256, edge sha256]}."""
    folder.mkdir(parents=True)
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    if len(embeddings) != len(chunks):
        raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} vectors")
    with (folder / EMBEDDINGS).open("wb") as f:
        np.save(f, embeddings)
    faiss.write_index(build_vector_index(embeddings, approximate_above), str(folder / VECTORS))
    Postings.build(c.text for c in chunks).save(folder / POSTINGS)
    _write_texts(folder / TEXTS, documents, chunks)
    written = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in written:
        fsync_file(path)
    fsync_dir(folder / POSTINGS)
    fsync_dir(folder)
    return {p.relative_to(folder).as_posix(): file_record(p) for p in written}


def _write_texts(path: Path, documents: Sequence[Document], chunks: Sequence[Chunk]) -> None:
    spans: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        span = spans.setdefault(chunk.doc_id, [row, 0])
        if span[0] + span[1] != row:
            raise ValueError(f"the chunks of {chunk.doc_id} are not together")
        span[1] += 1
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")  # a new file in a folder not yet published
        db.execute("PRAGMA synchronous=OFF")  # flushed once, by write_segment
        db.execute("CREATE TABLE chunks (row INTEGER PRIMARY KEY, doc_id TEXT, text TEXT, "
                   "start_char INTEGER, end_char INTEGER, paragraph INTEGER)")
        db.execute(f"CREATE TABLE documents ({', '.join(_DOCUMENT_COLUMNS)}, first_row INTEGER, "
                   "rows INTEGER, PRIMARY KEY (doc_id))")
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                       ((row, c.doc_id, c.text, c.start, c.end, c.paragraph)
                        for row, c in enumerate(chunks)))
        db.executemany(f"INSERT INTO documents VALUES ({', '.join('?' * (len(_DOCUMENT_COLUMNS) + 2))})",
                       ([getattr(d, name) for name in _DOCUMENT_COLUMNS] +
                        spans.get(d.doc_id, [0, 0]) for d in documents))
        db.commit()
    finally:
        db.close()


def file_record(path: Path) -> list:
    return [path.stat().st_size, sha256_of(path), _edge_digest(path)]


def _edge_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        digest.update(f.read(EDGE_BYTES))
        f.seek(max(0, path.stat().st_size - EDGE_BYTES))
        digest.update(f.read(EDGE_BYTES))
    return digest.hexdigest()


def damaged_files(folder: Path, files: dict[str, list], full: bool) -> list[Path]:
    """The files that are missing or differ from their record (size and sha256; with `full`
    False, files over FULL_CHECK_BYTES by their size and first and last MiB)."""
    bad = []
    for name, (size, digest, *edge) in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            bad.append(path)
        elif full or size <= FULL_CHECK_BYTES or not edge:
            if sha256_of(path) != digest:
                bad.append(path)
        elif _edge_digest(path) != edge[0]:
            bad.append(path)
    return bad


_LOADED: weakref.WeakValueDictionary[str, Segment] = weakref.WeakValueDictionary()
_LOADING = threading.Lock()


def load_segment(folder: Path, files: dict[str, list], mmap: bool = True) -> Segment:
    """The segment in `folder`, checked against its file records; one already loaded in this
    process (and still used by a version) is returned as it is. Raises ValueError when a file
    is damaged, OSError or a FAISS error when it cannot be read."""
    key = str(folder.resolve())
    with _LOADING:
        segment = _LOADED.get(key)
        if segment is not None:
            return segment
        bad = damaged_files(folder, files, full=False)
        if bad:
            raise ValueError(f"{bad[0]} is missing, truncated or corrupted")
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        vectors = faiss.read_index(str(folder / VECTORS), flags)
        embeddings = np.load(folder / EMBEDDINGS, mmap_mode="r" if mmap else None)
        postings = Postings.load(folder / POSTINGS, mmap=mmap)
        # immutable=1: the file never changes, so SQLite takes no locks and keeps no journal.
        db = sqlite3.connect(f"file:{folder / TEXTS}?mode=ro&immutable=1", uri=True,
                             check_same_thread=False)
        segment = Segment(folder.name, folder, vectors, embeddings, postings, db)
        if not vectors.ntotal == len(embeddings) == segment.size:
            raise ValueError(f"segment {folder.name} is inconsistent ({vectors.ntotal} vectors, "
                             f"{segment.size} chunks)")
        _LOADED[key] = segment
        return segment

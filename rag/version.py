"""An index version as readers see it: the segments it lists, less the documents it deleted.

Rows are numbered across the version's segments (segment i's local row r is row
offsets[i] + r), so HybridRetriever sees one list of rows as before; they mean something
only within this version.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .postings import search_segments
from .segment import Deleted, DocEntry, Segment
from .types import Chunk, Document


class IndexVersion:
    """One version's segments and deletions (rag.retriever.CandidateSource)."""

    def __init__(self, manifest: dict[str, Any], version: str, segments: list[Segment],
                 deleted: dict[str, set[str]]) -> None:
        self.manifest = manifest
        self.version = version
        self.segments = segments
        self.deleted_docs = {s.segment_id: set(deleted.get(s.segment_id, ())) for s in segments}
        self.offsets = np.cumsum([0] + [s.size for s in segments[:-1]]).astype(np.int64)
        self.live: dict[str, tuple[int, DocEntry]] = {}  # doc_id -> (segment index, entry)
        self._deleted: list[Deleted | None] = []
        for i, segment in enumerate(segments):
            gone = self.deleted_docs[segment.segment_id]
            rows = [np.arange(e.first_row, e.first_row + e.rows) for d, e in
                    segment.catalogue.items() if d in gone]
            self._deleted.append(Deleted(np.concatenate(rows), segment.size) if rows else None)
            self.live.update((d, (i, e)) for d, e in segment.catalogue.items() if d not in gone)
        self.by_file: dict[str, list[str]] = {}
        for doc_id, (_, entry) in self.live.items():
            self.by_file.setdefault(entry.key, []).append(doc_id)
        self.size = sum(entry.rows for _, entry in self.live.values())  # live chunks

    @property
    def documents(self) -> DocumentTable:
        return DocumentTable(self)  # made on demand: a reference cycle would keep segments

    def live_chunks(self, segment: int) -> int:
        deleted = self._deleted[segment]
        return self.segments[segment].size - (len(deleted.rows) if deleted else 0)

    # ------------------------------------------------- where HybridRetriever gets candidates

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        query = np.ascontiguousarray(query_vector, dtype=np.float32)
        hits = [(int(offset) + row, score)
                for segment, offset, deleted in zip(self.segments, self.offsets, self._deleted,
                                                    strict=True)
                for row, score in segment.dense_search(query, n, deleted)]
        return heapq.nlargest(n, hits, key=lambda hit: (hit[1], -hit[0]))

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]:
        found = search_segments([(s.postings, d.mask if d else None)
                                 for s, d in zip(self.segments, self._deleted, strict=True)],
                                query, n)
        hits = [(int(offset) + row, score) for offset, rows in zip(self.offsets, found,
                                                                   strict=True)
                for row, score in rows]
        return heapq.nlargest(n, hits, key=lambda hit: (hit[1], -hit[0]))

    def chunks_at(self, rows: list[int]) -> dict[int, Chunk]:
        by_segment: dict[int, list[int]] = {}
        for row in rows:
            by_segment.setdefault(self._segment_of(row), []).append(row)
        found: dict[int, Chunk] = {}
        for i, wanted in by_segment.items():
            offset = int(self.offsets[i])
            for local, chunk in self.segments[i].chunks(r - offset for r in wanted).items():
                chunk.chunk_id = local + offset
                found[chunk.chunk_id] = chunk
        return found

    def documents_of(self, doc_ids: set[str]) -> dict[str, Document]:
        by_segment: dict[int, list[str]] = {}
        for doc_id in doc_ids:
            by_segment.setdefault(self.live[doc_id][0], []).append(doc_id)
        found: dict[str, Document] = {}
        for i, ids in by_segment.items():
            found.update(self.segments[i].documents(ids))
        return found

    def _segment_of(self, row: int) -> int:
        return int(np.searchsorted(self.offsets, row, side="right")) - 1

    # ------------------------------------------------- the library, ingestion and tools

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        i, entry = self.live[doc_id]
        first = int(self.offsets[i]) + entry.first_row
        chunks = self.chunks_at(list(range(first, first + entry.rows)))
        return [chunks[row] for row in sorted(chunks)]

    def chunks_per_document(self) -> dict[str, int]:
        return {doc_id: entry.rows for doc_id, (_, entry) in self.live.items()}

    def content_hashes(self) -> dict[str, str]:
        """{content hash: document key} of the live documents, without reading their texts."""
        hashes: dict[str, str] = {}
        for _, entry in self.live.values():
            hashes.setdefault(entry.content_hash, entry.key)
        return hashes

    def segment_of_document(self, doc_id: str) -> str:
        return self.segments[self.live[doc_id][0]].segment_id

    def copy_of(self, doc_ids: list[str]) -> tuple[list[Document], list[Chunk], np.ndarray]:
        """The documents, their chunks (numbered from 0, in this order) and their vectors:
        what a merge or a renamed document carries into a new segment."""
        documents = self.documents_of(set(doc_ids))
        out_docs, out_chunks, parts = [], [], []
        for doc_id in doc_ids:
            i, entry = self.live[doc_id]
            segment = self.segments[i]
            out_docs.append(documents[doc_id])
            rows = range(entry.first_row, entry.first_row + entry.rows)
            chunks = segment.chunks(rows)
            for row in rows:
                chunk = chunks[row]
                chunk.chunk_id = len(out_chunks)
                out_chunks.append(chunk)
            parts.append(np.asarray(segment.embeddings[entry.first_row:
                                                       entry.first_row + entry.rows]))
        dim = self.segments[0].embeddings.shape[1] if self.segments else 0
        vectors = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return out_docs, out_chunks, vectors

    def documents_in(self, segment_ids: set[str]) -> list[str]:
        """The live documents of those segments, in row order."""
        return [doc_id for s in self.segments if s.segment_id in segment_ids
                for doc_id in s.catalogue if doc_id in self.live
                and self.live[doc_id][1] is s.catalogue[doc_id]]

    @property
    def chunks(self) -> list[Chunk]:
        """Every live chunk, read from disk (for tests and tools; searches never need it)."""
        return [c for doc_id in self.live for c in self.chunks_of(doc_id)]

    @property
    def embeddings(self) -> np.ndarray:
        """Every live chunk's vector, in the order of `chunks` (read from disk)."""
        return self.copy_of(list(self.live))[2]


class DocumentTable(Mapping[str, Document]):
    """A version's live documents by doc_id; each read from disk when asked for."""

    def __init__(self, version: IndexVersion) -> None:
        self._version = version

    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self._version.live:
            raise KeyError(doc_id)
        return self._version.documents_of({doc_id})[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._version.live)

    def __len__(self) -> int:
        return len(self._version.live)

    def values(self) -> list[Document]:  # type: ignore[override]
        """All of them in one read per segment (the library lists them all)."""
        found = self._version.documents_of(set(self._version.live))
        return [found[doc_id] for doc_id in self._version.live]

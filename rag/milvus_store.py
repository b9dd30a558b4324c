"""The index in Milvus: chunks with their vectors and BM25 terms, and their documents.

`milvus_uri` is a local file (Milvus Lite, in-process: `pip install -e '.[milvus]'`) or
`http://host:19530` (a Milvus standalone server or cluster); the client and the code are the
same. Unlike the versioned FAISS index, Milvus adds and deletes rows in place, so an ingest
costs work in proportion to the changed files, not to the corpus.

Kill safety: a write inserts the new files' rows under a new `generation`, then deletes the
replaced files' older generations. A crash in between leaves both (nothing stored is lost):
the document list shows each file's newest generation (a search may also find the older
chunks), and the next write deletes the stale rows. BM25 is Milvus's own (its analyzer splits on words); the texts it indexes are
rag.arabic's normalized, stemmed tokens, so that Arabic matches as in rag.lexical.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .arabic import tokenize
from .config import Settings
from .errors import REBUILD_HINT, IndexStoreError
from .lexical import query_tokens
from .types import Chunk, Document

log = logging.getLogger(__name__)

VARCHAR_MAX = 65_535  # bytes: Milvus's longest VARCHAR
TEXT_PART_CHARS = VARCHAR_MAX // 4 - 64  # a document's text is stored in parts of this size
# A query is limited to 16,384 rows (Milvus's query window); lists are read in pages of this.
PAGE = 10_000


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError as e:
        raise IndexStoreError("vector_store = 'milvus' needs the pymilvus package (and "
                              "milvus-lite for a local file): pip install -e '.[milvus]'") from e
    return pymilvus


def literal(values: Iterable[str | int]) -> str:
    """A list literal for a Milvus filter: JSON's quoting is the expression language's."""
    return json.dumps(list(values), ensure_ascii=False)


class MilvusIndex:
    """Chunks and documents in three collections named `<collection>_chunks`, `_documents`
    and `_meta` (the settings the index was built with). Chunk ids are Milvus's row ids."""

    version = "milvus"  # one live collection: readers never reload, writes show at once

    def __init__(self, uri: str, collection: str, variant_weight: float = 0.5) -> None:
        pymilvus = _pymilvus()
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client = pymilvus.MilvusClient(uri)
        except Exception as e:
            raise IndexStoreError(f"Cannot open the Milvus index at {uri} ({e}).") from e
        self.uri = uri
        self.chunks_name = f"{collection}_chunks"
        self.documents_name = f"{collection}_documents"
        self.meta_name = f"{collection}_meta"
        self.variant_weight = variant_weight  # as rag.lexical.LexicalIndex
        self._documents: tuple[str, dict[str, Document]] | None = None  # (written, documents)

    # ------------------------------------------------------------------ settings and schema

    def exists(self) -> bool:
        return self.client.has_collection(self.meta_name)

    def check(self, expect: dict[str, Any]) -> None:
        """Refuse an index built with other settings, as IndexStore.load does."""
        if not self.exists():
            raise IndexStoreError(f"No index in Milvus at {self.uri}. Build one with: "
                                  f"rag ingest seeds/")
        for name in (self.meta_name, self.documents_name, self.chunks_name):
            self.client.load_collection(name)  # a reopened collection starts released
        built = json.loads(self._meta("settings") or "{}")
        for key, wanted in expect.items():
            if built.get(key) != wanted:
                raise IndexStoreError(
                    f"The index was built with {key} = {built.get(key)!r}, but the settings "
                    f"now say {wanted!r}. {REBUILD_HINT}")

    def create(self, settings: dict[str, Any], dim: int) -> None:
        """Empty collections for vectors of `dim` floats, recording `settings`."""
        self.drop()
        pymilvus = _pymilvus()
        types, function = pymilvus.DataType, pymilvus.Function
        schema = self.client.create_schema(auto_id=True)
        schema.add_field("id", types.INT64, is_primary=True)
        schema.add_field("doc_id", types.VARCHAR, max_length=1024)
        schema.add_field("source_key", types.VARCHAR, max_length=4096)
        schema.add_field("generation", types.INT64)
        schema.add_field("text", types.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("terms", types.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", types.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", types.FLOAT_VECTOR, dim=dim)
        for name in ("start", "end", "paragraph"):
            schema.add_field(name, types.INT64)
        schema.add_function(function(name="bm25", function_type=pymilvus.FunctionType.BM25,
                                     input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        index = self.client.prepare_index_params()
        index.add_index("vector", index_type="AUTOINDEX", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(self.chunks_name, schema=schema, index_params=index)
        self._create_records(self.documents_name)
        self._create_records(self.meta_name)
        self.client.insert(self.meta_name, [_record("settings", json.dumps(settings))])
        self.client.flush(self.meta_name)

    def _create_records(self, name: str) -> None:
        # Milvus wants a vector field in every collection: a 2-d placeholder, never searched.
        types = _pymilvus().DataType
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("key", types.VARCHAR, max_length=1100, is_primary=True)
        schema.add_field("doc_id", types.VARCHAR, max_length=1024)
        schema.add_field("source_key", types.VARCHAR, max_length=4096)
        schema.add_field("generation", types.INT64)
        schema.add_field("value", types.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("placeholder", types.FLOAT_VECTOR, dim=2)
        index = self.client.prepare_index_params()
        index.add_index("placeholder", index_type="AUTOINDEX", metric_type="L2")
        self.client.create_collection(name, schema=schema, index_params=index)

    def drop(self) -> None:
        for name in (self.meta_name, self.chunks_name, self.documents_name):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    # ------------------------------------------------------------------ reading

    @property
    def size(self) -> int:
        rows = self.client.query(self.chunks_name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1).tolist()
        hits = self.client.search(self.chunks_name, data=[vector], anns_field="vector",
                                  limit=n, search_params={"metric_type": "IP"})
        return [(int(h["id"]), float(h["distance"])) for h in hits[0]]

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]:
        direct, variants = query_tokens(query)
        scores: dict[int, float] = {}
        for tokens, weight in ((direct, 1.0), (variants, self.variant_weight)):
            if not tokens or weight <= 0:
                continue
            hits = self.client.search(self.chunks_name, data=[" ".join(tokens)],
                                      anns_field="sparse", limit=n,
                                      search_params={"metric_type": "BM25"})
            for h in hits[0]:
                # Milvus Lite reports BM25 negated (smaller is better), a server positive.
                scores[int(h["id"])] = scores.get(int(h["id"]), 0.0) + weight * abs(
                    float(h["distance"]))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:n]
        return [(row, score) for row, score in ranked if score > 0]

    def chunks_at(self, rows: list[int]) -> dict[int, Chunk]:
        if not rows:
            return {}
        found = self.client.get(self.chunks_name, ids=list(rows),
                                output_fields=["doc_id", "text", "start", "end", "paragraph"])
        return {int(r["id"]): Chunk(chunk_id=int(r["id"]), doc_id=r["doc_id"], text=r["text"],
                                    start=r["start"], end=r["end"], paragraph=r["paragraph"])
                for r in found}

    def documents_of(self, doc_ids: set[str]) -> dict[str, Document]:
        if not doc_ids:
            return {}
        # Any generation: after an interrupted write a search may find a file's older rows too.
        return _assemble(self._records(f"doc_id in {literal(sorted(doc_ids))}", newest=False))

    def chunks_per_document(self) -> dict[str, int]:
        """For the app's library: every chunk's document id is read (not for answering)."""
        counts: dict[str, int] = {}
        for r in self._iterate(self.chunks_name, "", ["doc_id"]):
            counts[r["doc_id"]] = counts.get(r["doc_id"], 0) + 1
        return counts

    @property
    def documents(self) -> dict[str, Document]:
        """Every document of each file's newest generation (read whole, again only after a
        write: for ingestion and the app's library, not for answering)."""
        written = self._meta("written") or ""
        if self._documents is None or self._documents[0] != written:
            self._documents = (written, _assemble(self._records("")))
        return self._documents[1]

    def _meta(self, key: str) -> str | None:
        rows = self.client.get(self.meta_name, ids=[key], output_fields=["value"])
        return rows[0]["value"] if rows else None

    @property
    def by_file(self) -> dict[str, list[str]]:
        by_file: dict[str, list[str]] = {}
        for doc in self.documents.values():
            by_file.setdefault(doc.key, []).append(doc.doc_id)
        return by_file

    def _records(self, where: str, newest: bool = True) -> list[dict[str, Any]]:
        """Document records (all parts) matching `where`, of each file's newest generation."""
        rows = list(self._iterate(self.documents_name, where,
                                  ["key", "doc_id", "source_key", "generation", "value"]))
        if not newest:
            return rows
        newest: dict[str, int] = {}
        for r in rows:
            newest[r["source_key"]] = max(newest.get(r["source_key"], 0), r["generation"])
        return [r for r in rows if r["generation"] == newest[r["source_key"]]]

    def _iterate(self, name: str, where: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        pages = self.client.query_iterator(name, batch_size=PAGE, filter=where,
                                           output_fields=fields)
        try:
            while page := pages.next():
                yield from page
        finally:
            pages.close()

    # ------------------------------------------------------------------ writing

    def replace(self, files: set[str], documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray) -> None:
        """Delete every row of `files` (their Document.key), then add `documents` and their
        `chunks` (rows of `vectors`; Milvus assigns the chunk ids). New rows go in first."""
        generation = time.time_ns()
        by_doc = {d.doc_id: d for d in documents}
        records = [_record(f"{d.doc_id}|{part}", json.dumps({**d.to_dict(), "text": text,
                                                              "part": part},
                                                             ensure_ascii=False),
                           doc=d, generation=generation)
                   for d in documents for part, text in enumerate(_parts(d.text))]
        for start in range(0, len(records), PAGE):
            self.client.insert(self.documents_name, records[start:start + PAGE])
        vectors = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(chunks), PAGE):  # rows built a page at a time: ~2 KB each
            self.client.insert(self.chunks_name, [
                {"doc_id": c.doc_id, "source_key": by_doc[c.doc_id].key,
                 "generation": generation, "text": c.text, "terms": " ".join(tokenize(c.text)),
                 "vector": v.tolist(), "start": c.start, "end": c.end, "paragraph": c.paragraph}
                for c, v in zip(chunks[start:start + PAGE], vectors[start:start + PAGE],
                                strict=True)])
        self._flush()
        stale = files | self._stale_files()
        if stale:
            where = f"source_key in {literal(sorted(stale))} and generation < {generation}"
            self.client.delete(self.chunks_name, filter=where)
            self.client.delete(self.documents_name, filter=where)
            self._flush()
        self.client.upsert(self.meta_name, [_record("written", str(generation))])
        self.client.flush(self.meta_name)
        log.info("Milvus index at %s: %d files replaced or removed, %d documents and %d "
                 "chunks added", self.uri, len(files), len(documents), len(chunks))

    def _stale_files(self) -> set[str]:
        """Files with rows of more than one generation (a write was interrupted)."""
        generations: dict[str, set[int]] = {}
        for r in self._iterate(self.documents_name, "", ["source_key", "generation"]):
            generations.setdefault(r["source_key"], set()).add(r["generation"])
        return {name for name, found in generations.items() if len(found) > 1}

    def _flush(self) -> None:
        for name in (self.documents_name, self.chunks_name):
            self.client.flush(name)


def open_index(settings: Settings) -> MilvusIndex:
    return MilvusIndex(settings.milvus_target, settings.milvus_collection)


def _record(key: str, value: str, doc: Document | None = None,
            generation: int = 0) -> dict[str, Any]:
    return {"key": key, "doc_id": doc.doc_id if doc else "",
            "source_key": doc.key if doc else "", "generation": generation,
            "value": value, "placeholder": [0.0, 0.0]}


def _parts(text: str) -> list[str]:
    """`text` in pieces that fit a VARCHAR (at most 4 UTF-8 bytes a character)."""
    return [text[i:i + TEXT_PART_CHARS] for i in range(0, len(text), TEXT_PART_CHARS)] or [""]


def _assemble(records: list[dict[str, Any]]) -> dict[str, Document]:
    parts: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        parts.setdefault(r["doc_id"], []).append(json.loads(r["value"]))
    documents = {}
    for doc_id, pieces in parts.items():
        pieces.sort(key=lambda p: p["part"])
        fields = {k: v for k, v in pieces[0].items() if k != "part"}
        documents[doc_id] = Document(**{**fields, "text": "".join(p["text"] for p in pieces)})
    return documents

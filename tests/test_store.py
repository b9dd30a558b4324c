"""The persisted index: round trip, refusal of mismatched settings, damage detection, atomicity."""

import json
import os

import numpy as np
import pytest

from rag.errors import IndexStoreError
from rag.store import IndexStore
from rag.types import Chunk, Document

MANIFEST = {"embedding_model": "m", "embedding_dim": 4,
            "chunker": {"version": 1, "chunk_tokens": 160, "overlap_tokens": 24}}


def sample(n_docs: int = 2):
    docs, chunks = [], []
    for d in range(n_docs):
        text = f"عنوان {d}\n\nنص المقال رقم {d}."
        docs.append(Document(doc_id=f"f{d}.txt#0:abc", source_file=f"f{d}.txt", title=f"t{d}",
                             text=text, content_hash=f"h{d}"))
        chunks.append(Chunk(chunk_id=len(chunks), doc_id=docs[-1].doc_id, text=text, start=0,
                            end=len(text), paragraph=0))
    vectors = np.random.default_rng(0).normal(size=(len(chunks), 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return docs, chunks, vectors


def test_round_trip(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = sample()
    with store.writer_lock():
        store.write(MANIFEST, docs, chunks, vectors, approximate_above=1000)
    data = store.load(expect=MANIFEST)
    assert list(data.documents) == [d.doc_id for d in docs]
    assert data.chunks == chunks
    assert data.vectors.ntotal == 2
    scores, rows = data.vectors.search(vectors[1:2], 1)
    assert rows[0][0] == 1 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert data.by_file == {"f0.txt": ["f0.txt#0:abc"], "f1.txt": ["f1.txt#0:abc"]}


def test_approximate_index_above_threshold(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = sample(3)
    store.write(MANIFEST, docs, chunks, vectors, approximate_above=2)
    data = store.load()
    assert "HNSW" in type(data.vectors).__name__
    assert data.vectors.search(vectors[2:3], 1)[1][0][0] == 2


def test_other_embedding_model_is_refused_with_rebuild_hint(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(), approximate_above=1000)
    with pytest.raises(IndexStoreError, match="rebuild"):
        store.load(expect={**MANIFEST, "embedding_model": "other"})
    with pytest.raises(IndexStoreError, match="chunker"):
        store.load(expect={**MANIFEST, "chunker": {**MANIFEST["chunker"], "chunk_tokens": 99}})


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexStoreError, match="rag ingest"):
        IndexStore(tmp_path / "nothing").load()


@pytest.mark.parametrize("name", ["chunks.json", "documents.json", "vectors.faiss",
                                  "embeddings.npy"])
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_file_is_detected(tmp_path, name, damage):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(), approximate_above=1000)
    path = tmp_path / store.current_version() / name
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match="rebuild"):
        store.load()


def test_garbled_manifest_is_detected(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(), approximate_above=1000)
    (tmp_path / store.current_version() / "manifest.json").write_text("{not json")
    with pytest.raises(IndexStoreError, match="damaged"):
        store.load()


def test_a_failed_write_keeps_the_previous_version(tmp_path, monkeypatch):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    before = store.current_version()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rag.store.faiss.write_index", disk_full)
    with pytest.raises(OSError):
        store.write(MANIFEST, *sample(2), approximate_above=1000)
    monkeypatch.undo()
    assert store.current_version() == before
    assert len(store.load().documents) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_new_version_replaces_old_and_old_folders_are_removed(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    first = store.current_version()
    reader = store.load()  # a reader holding the old version keeps a consistent view
    store.write(MANIFEST, *sample(2), approximate_above=1000)
    assert store.current_version() != first
    assert not (tmp_path / first).exists()
    assert len(reader.documents) == 1 and reader.vectors.ntotal == 1
    assert len(store.load().documents) == 2
    versions = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(versions) == 1


def test_manifest_records_file_hashes_and_settings(tmp_path):
    store = IndexStore(tmp_path)
    store.write({**MANIFEST, "sources": {"f0.txt": "h0"}}, *sample(1), approximate_above=1000)
    manifest = json.loads((tmp_path / store.current_version() / "manifest.json").read_text())
    assert manifest["embedding_model"] == "m" and manifest["embedding_dim"] == 4
    assert set(manifest["files"]) == {"chunks.json", "documents.json", "embeddings.npy",
                                      "vectors.faiss"}
    assert manifest["sources"] == {"f0.txt": "h0"}
    assert os.path.getsize(tmp_path / "CURRENT") > 0

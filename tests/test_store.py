"""The persisted index: round trip, refusal of mismatched settings, damage detection, atomicity."""

import json
import logging
import os

import faiss
import numpy as np
import pytest

from rag.errors import IndexStoreError
from rag.lexical import LexicalIndex
from rag.store import IndexData, IndexStore
from rag.types import Chunk, Document
from rag.version import IndexVersion

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
    assert data.size == 2
    [(row, score)] = data.dense_search(vectors[1], 1)
    assert row == 1 and score == pytest.approx(1.0, abs=1e-5)
    assert data.by_file == {"f0.txt": ["f0.txt#0:abc"], "f1.txt": ["f1.txt#0:abc"]}


def test_approximate_index_above_threshold(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = sample(3)
    store.write(MANIFEST, docs, chunks, vectors, approximate_above=2)
    data = store.load()
    assert "IVF" in type(data.segments[0].vectors).__name__
    assert data.dense_search(vectors[2], 1)[0][0] == 2


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


def segment_folder(store: IndexStore, i: int = 0):
    manifest = json.loads((store.index_dir / store.current_version() / "manifest.json")
                          .read_text())
    return store.index_dir / "segments" / manifest["segments"][i]["id"]


@pytest.mark.parametrize("name", ["texts.sqlite", "vectors.faiss", "embeddings.npy",
                                  "postings/rows.npy", "postings/terms.npy"])
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_file_is_detected(tmp_path, name, damage):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(), approximate_above=1000)
    path = segment_folder(store) / name
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

    monkeypatch.setattr("rag.segment.faiss.write_index", disk_full)
    with pytest.raises(OSError):
        store.write(MANIFEST, *sample(2), approximate_above=1000)
    monkeypatch.undo()
    assert store.current_version() == before
    assert len(store.load().documents) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert not [p for p in (tmp_path / "segments").iterdir() if p.name.startswith(".tmp-")]


def test_new_version_replaces_old_and_older_folders_are_removed(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    first = store.current_version()
    reader = store.load()  # a reader holding the old version keeps a consistent view
    store.write(MANIFEST, *sample(2), approximate_above=1000)
    second = store.current_version()
    assert second != first
    # The version just replaced stays for readers that read CURRENT before the switch.
    assert (tmp_path / first).is_dir()
    assert len(reader.documents) == 1 and reader.size == 1
    assert len(store.load().documents) == 2
    store.write(MANIFEST, *sample(3), approximate_above=1000)
    versions = sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != "segments")
    assert versions == sorted([second, store.current_version()])
    assert len(list((tmp_path / "segments").iterdir())) == 2  # those two versions' segments


def test_a_reader_whose_version_vanishes_reads_the_new_one(tmp_path, monkeypatch):
    """73 of 4,125 loads said "damaged, rebuild it" while another process ingested: the
    writer removed the version a reader had just chosen."""
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    old = store.current_version()
    real = IndexStore._load_version

    def writer_switches_meanwhile(self, version, expect, mmap):
        if version == old:  # the reader chose `old`; a writer now replaces and removes it
            monkeypatch.setattr(IndexStore, "_load_version", real)
            self.write(MANIFEST, *sample(2), approximate_above=1000)
            self.write(MANIFEST, *sample(3), approximate_above=1000)
            assert not (tmp_path / old).exists()
        return real(self, version, expect, mmap)

    monkeypatch.setattr(IndexStore, "_load_version", writer_switches_meanwhile)
    assert len(store.load().documents) == 3


def test_real_damage_is_reported_in_plain_words(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    (segment_folder(store) / "vectors.faiss").write_bytes(b"garbage")
    path = tmp_path / store.current_version() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["segments"][0]["files"].pop("vectors.faiss")  # so that the check does not catch it
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError) as caught:
        store.load()
    message = str(caught.value)
    assert "damaged" in message and "rag ingest --rebuild" in message
    assert "Error in" not in message and "/faiss/" not in message and ".cpp" not in message


def test_current_pointer_with_bytes_that_are_no_version(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    (tmp_path / "CURRENT").write_bytes(b"\xff\xfe junk")
    with pytest.raises(IndexStoreError, match="CURRENT file does not name a version"):
        store.load()


def test_index_folder_that_is_a_file(tmp_path):
    (tmp_path / "index").write_text("not a folder")
    store = IndexStore(tmp_path / "index")
    for call in (store.load, store.exists, lambda: store.writer_lock().__enter__()):
        with pytest.raises(IndexStoreError, match="is a file, not a folder"):
            call()


def test_leftovers_of_killed_writes_are_removed_at_start_and_by_the_next_write(tmp_path):
    store = IndexStore(tmp_path)
    with store.writer_lock():
        store.write(MANIFEST, *sample(1), approximate_above=1000)
    current = store.current_version()
    (tmp_path / ".tmp-v20260101-000000-1-1").mkdir()  # killed while writing files
    (tmp_path / "v20260101-000000-1-2").mkdir()  # killed after the rename, before CURRENT
    (tmp_path / "notes").mkdir()  # not ours: left alone
    store.clean_leftovers()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(
        [current, "notes", "segments"])
    (tmp_path / ".tmp-v20260101-000000-1-3").mkdir()
    with store.writer_lock():
        assert not (tmp_path / ".tmp-v20260101-000000-1-3").exists()


def test_a_waiting_writer_says_who_it_waits_for_and_gives_up(tmp_path, caplog):
    import subprocess
    import sys
    import time

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from rag.store import IndexStore\n"
        f"with IndexStore({str(tmp_path)!r}).writer_lock():\n"
        "    print('locked', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        seen = []
        started = time.monotonic()
        with pytest.raises(IndexStoreError) as caught, IndexStore(tmp_path).writer_lock(
                wait_seconds=1.0, progress=lambda stage, done, total: seen.append(stage)):
            pass
        assert time.monotonic() - started >= 1.0
        assert f"pid {holder.pid}" in str(caught.value) and "gave up" in str(caught.value)
        assert seen and set(seen) == {"waiting for the index"}
        assert f"pid {holder.pid}" in caplog.text and "-c" in caplog.text  # the log says who
    finally:
        holder.kill()
        holder.wait()
    with IndexStore(tmp_path).writer_lock(wait_seconds=5.0):  # free again once it is gone
        pass


def test_manifest_records_file_hashes_and_settings(tmp_path):
    store = IndexStore(tmp_path)
    store.write({**MANIFEST, "sources": {"f0.txt": "h0"}}, *sample(1), approximate_above=1000)
    manifest = json.loads((tmp_path / store.current_version() / "manifest.json").read_text())
    assert manifest["embedding_model"] == "m" and manifest["embedding_dim"] == 4
    [segment] = manifest["segments"]
    assert set(segment["files"]) >= {"texts.sqlite", "embeddings.npy", "vectors.faiss",
                                     "postings/rows.npy", "postings/terms.npy"}
    assert manifest["sources"] == {"f0.txt": "h0"}
    assert os.path.getsize(tmp_path / "CURRENT") > 0


def test_readers_in_another_process_never_see_damage_while_versions_switch(tmp_path):
    """One process ingesting, others loading: 73 of 4,125 loads said "damaged, rebuild it"."""
    import subprocess
    import sys

    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from test_store import MANIFEST, sample\n"
        "from rag.store import IndexStore\n"
        f"store = IndexStore({str(tmp_path)!r})\n"
        "for i in range(60):\n"
        "    with store.writer_lock():\n"
        "        store.write(MANIFEST, *sample(1 + i % 3), approximate_above=1000)\n")])
    loads, failures = 0, []
    while writer.poll() is None:
        try:
            data = store.load()
            assert data.size == len(data.chunks)
            loads += 1
        except IndexStoreError as e:
            failures.append(str(e))
    assert writer.returncode == 0
    print(f"\n{loads} loads while 60 versions were written; {len(failures)} failed")
    assert loads > 10 and failures == [], failures[:3]


def test_bm25_postings_are_saved_with_the_segment_and_loaded_memory_mapped(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = sample(3)
    store.write(MANIFEST, docs, chunks, vectors, approximate_above=1000)
    data = store.load()
    assert isinstance(data.segments[0].postings.rows, np.memmap)
    built = LexicalIndex([c.text for c in chunks])
    found, expected = data.lexical_search("نص المقال", 3), built.search("نص المقال", 3)
    assert [r for r, _ in found] == [r for r, _ in expected] != []
    assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-5)


def write_format_1(folder, manifest, docs, chunks, vectors, with_bm25=True):
    """An index version as the store wrote it before segments (format 1)."""
    from rag.files import sha256_of
    from rag.segment import build_vector_index

    version = folder / "v20260101-000000-1-1"
    version.mkdir(parents=True)
    (version / "documents.json").write_text(json.dumps([d.to_dict() for d in docs]))
    (version / "chunks.json").write_text(json.dumps([c.to_dict() for c in chunks]))
    np.save(version / "embeddings.npy", vectors)
    faiss.write_index(build_vector_index(vectors, 1000), str(version / "vectors.faiss"))
    if with_bm25:
        LexicalIndex([c.text for c in chunks]).save(version / "bm25")
    files = {p.relative_to(version).as_posix(): [p.stat().st_size, sha256_of(p)]
             for p in sorted(version.rglob("*")) if p.is_file()}
    (version / "manifest.json").write_text(json.dumps(
        {**manifest, "format": 1, "chunks": len(chunks), "documents": len(docs), "files": files}))
    (folder / "CURRENT").write_text(version.name)
    return version.name


def test_a_version_of_format_1_still_loads_and_the_next_write_makes_it_a_segment(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = sample(3)
    old = write_format_1(tmp_path, MANIFEST, docs, chunks, vectors)
    data = store.load(expect=MANIFEST)
    assert isinstance(data, IndexData) and data.version == old
    assert data.lexical_index is not None and data.lexical_search("نص المقال", 3)
    with store.writer_lock():
        store.write(MANIFEST, list(data.documents.values()), data.chunks,
                    np.asarray(data.embeddings), approximate_above=1000)
    new = store.load(expect=MANIFEST)
    assert isinstance(new, IndexVersion) and len(new.segments) == 1
    assert sorted(new.documents) == sorted(d.doc_id for d in docs)


def test_an_unknown_format_is_refused_with_the_rebuild_message(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *sample(1), approximate_above=1000)
    path = tmp_path / store.current_version() / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": 99}))
    with pytest.raises(IndexStoreError, match="format 99.*rag ingest --rebuild"):
        store.load()


def test_a_version_of_format_1_without_bm25_loads_and_builds_it_once(tmp_path, caplog):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = sample(3)
    write_format_1(tmp_path, MANIFEST, docs, chunks, vectors, with_bm25=False)
    caplog.set_level(logging.INFO, logger="rag.store")
    data = store.load()
    assert data.lexical_index is None
    assert len(data.lexical_search("نص المقال", 3)) == 3
    first = data.lexical
    data.lexical_search("عنوان", 3)
    assert data.lexical is first
    assert caplog.text.count("BM25 index over 3 chunks built") == 1


# ------------------------------------------------------------------ segments


def docs_named(names: list[str], seed: int = 0):
    """One document (and chunk) per name, with a text only it holds."""
    docs, chunks = [], []
    for name in names:
        text = f"مقال {name} عن موضوع {name}خاص"
        docs.append(Document(doc_id=f"{name}#0:abc", source_file=name, title=name, text=text,
                             content_hash=f"h-{name}"))
        chunks.append(Chunk(chunk_id=len(chunks), doc_id=docs[-1].doc_id, text=text, start=0,
                            end=len(text), paragraph=0))
    vectors = np.random.default_rng(seed).normal(size=(len(chunks), 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return docs, chunks, vectors


def files_under(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in folder.rglob("*") if p.is_file()}


def test_adding_writes_one_new_segment_and_a_manifest_only(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *docs_named([f"a{i}" for i in range(20)]), approximate_above=1000)
    before = files_under(tmp_path / "segments")
    base = store.load()
    store.write(MANIFEST, *docs_named(["new"], seed=1), approximate_above=1000, base=base)
    after = files_under(tmp_path / "segments")
    assert {k: v for k, v in after.items() if k in before} == before  # not one rewritten
    added = {k.split("/")[0] for k in set(after) - set(before)}
    assert len(added) == 1
    assert sorted(p.name for p in (tmp_path / store.current_version()).iterdir()) == \
        ["manifest.json"]
    data = store.load()
    assert len(data.segments) == 2 and data.size == 21
    assert [s.size for s in data.segments] == [20, 1]
    [(row, _)] = data.lexical_search("newخاص", 1)
    assert data.chunks_at([row])[row].doc_id == "new#0:abc"


def test_a_new_version_loads_only_its_new_segment(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *docs_named(["a", "b"]), approximate_above=1000)
    first = store.load()
    store.write(MANIFEST, *docs_named(["c"], seed=1), approximate_above=1000, base=first)
    second = store.load()
    assert second.segments[0] is first.segments[0]  # the same loaded object, not re-read


def test_a_removal_is_a_tombstone_and_its_text_is_never_returned(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = docs_named(["a", "b", "c"])
    store.write(MANIFEST, docs, chunks, vectors, approximate_above=1000)
    before = files_under(tmp_path / "segments")
    store.write(MANIFEST, [], [], np.zeros((0, 4), np.float32), approximate_above=1000,
                base=store.load(), removed={"b#0:abc"})
    assert files_under(tmp_path / "segments") == before  # nothing but a manifest written
    manifest = json.loads((tmp_path / store.current_version() / "manifest.json").read_text())
    assert manifest["segments"][0]["deleted"] == ["b#0:abc"] and manifest["chunks"] == 2
    data = store.load()
    assert sorted(data.documents) == ["a#0:abc", "c#0:abc"] and data.size == 2
    assert data.lexical_search("bخاص", 5) == []
    assert 1 not in [row for row, _ in data.dense_search(vectors[1], 5)]
    assert [c.doc_id for c in data.chunks] == ["a#0:abc", "c#0:abc"]


def test_too_many_segments_merge_the_small_ones_and_drop_their_tombstones(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *docs_named([f"big{i}" for i in range(10)]), approximate_above=1000)
    for names in (["x", "w"], ["y"]):
        store.write(MANIFEST, *docs_named(names, seed=2), approximate_above=1000,
                    base=store.load(), max_segments=3)
    store.write(MANIFEST, [], [], np.zeros((0, 4), np.float32), approximate_above=1000,
                base=store.load(), removed={"x#0:abc", "big3#0:abc"}, max_segments=3)
    assert [s.size for s in store.load().segments] == [10, 2, 1]
    store.write(MANIFEST, *docs_named(["z"], seed=3), approximate_above=1000,
                base=store.load(), max_segments=3)
    data = store.load()
    assert [s.size for s in data.segments] == [10, 3]  # w, y and z; x was deleted, not copied
    assert sorted(data.documents) == sorted([f"big{i}#0:abc" for i in range(10) if i != 3]
                                            + ["w#0:abc", "y#0:abc", "z#0:abc"])
    assert data.deleted_docs[data.segments[0].segment_id] == {"big3#0:abc"}
    store.write(MANIFEST, [], [], np.zeros((0, 4), np.float32), approximate_above=1000,
                base=data, compact=True)
    compacted = store.load()
    assert [s.size for s in compacted.segments] == [12]
    assert sorted(compacted.documents) == sorted(data.documents)
    for doc_id in compacted.documents:  # texts and vectors travel with their documents
        [chunk] = compacted.chunks_of(doc_id)
        assert chunk.text == data.chunks_of(doc_id)[0].text


def test_a_reader_of_an_old_version_keeps_working_after_its_files_are_gone(tmp_path):
    store = IndexStore(tmp_path)
    docs, chunks, vectors = docs_named(["a", "b", "c"])
    store.write(MANIFEST, docs, chunks, vectors, approximate_above=1000)
    reader = store.load()
    old_segment = reader.segments[0].folder
    for i in range(2):  # compacted twice: nothing lists the reader's segment any more
        store.write(MANIFEST, [], [], np.zeros((0, 4), np.float32), approximate_above=1000,
                    base=store.load(), removed={f"{'ab'[i]}#0:abc"}, compact=True)
    assert not old_segment.exists() and not (tmp_path / reader.version).exists()
    assert sorted(store.load().documents) == ["c#0:abc"]
    [(row, _)] = reader.lexical_search("aخاص", 1)
    assert reader.chunks_at([row])[row].text == chunks[0].text
    assert reader.dense_search(vectors[1], 1)[0][0] == 1
    assert reader.documents["b#0:abc"].text == docs[1].text


def test_a_large_file_is_checked_by_its_edges_at_load_and_whole_by_verify(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr("rag.segment.FULL_CHECK_BYTES", 100)  # every file counts as large
    monkeypatch.setattr("rag.segment.EDGE_BYTES", 16)
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *docs_named([f"a{i}" for i in range(50)]), approximate_above=1000)
    path = segment_folder(store) / "embeddings.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # in the middle: not what a load reads
    path.write_bytes(bytes(data))
    assert store.load().size == 50
    assert store.verify() == [path]


def test_texts_damaged_after_loading_are_reported_with_the_rebuild_hint(tmp_path):
    store = IndexStore(tmp_path)
    store.write(MANIFEST, *docs_named([f"a{i}" for i in range(50)]), approximate_above=1000)
    data = store.load()
    path = segment_folder(store) / "texts.sqlite"
    path.write_bytes(path.read_bytes()[:1024])
    with pytest.raises(IndexStoreError, match="damaged.*rag ingest --rebuild"):
        data.chunks_at([40])

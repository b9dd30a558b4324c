"""vector_store = "milvus" on a real engine (Milvus Lite, in-process) with the real embedder:
ingest the seeds, search, update, remove, re-ingest, read from another process, survive an
interrupted write."""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import IndexStoreError
from rag.ingest import Ingestor, load_index
from rag.milvus_store import MilvusIndex

pytest.importorskip("milvus_lite", reason="pip install -e '.[milvus]'")

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SHOIGU = "003_f262f470ec2870cc.txt"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.load(index_dir=tmp_path / "index", vector_store="milvus")


def outcomes(report) -> dict[str, str]:
    return {Path(f.path).name: f.status for f in report.files}


def test_ingest_search_update_remove_and_reingest(corpus, settings, embedder, seed_settings):
    ingestor = Ingestor(settings, embedder)
    first = ingestor.ingest([corpus])
    assert set(outcomes(first).values()) == {"added"}
    index = load_index(settings, embedder)
    faiss_index = load_index(seed_settings, embedder)
    assert isinstance(index, MilvusIndex)
    assert index.size == faiss_index.size == first.chunks
    assert {d.doc_id for d in index.documents.values()} == set(faiss_index.documents)
    for doc_id, doc in faiss_index.documents.items():  # texts survive the VARCHAR parts
        assert index.documents[doc_id] == replace(doc, source_path=str(corpus / doc.source_file))
    assert index.chunks_per_document() == faiss_index.chunks_per_document()  # the library

    assistant = Assistant(settings, embedder=embedder)
    passages = assistant.search("شويغو بيونغ يانغ", 3)
    assert passages[0].dense_score is not None and passages[0].lexical_score is not None
    assert "شويغو" in " ".join(p.chunk.text for p in passages)
    for p in passages:  # chunk offsets still slice the document's text
        assert p.document.text[p.chunk.start:p.chunk.end] == p.chunk.text
    # The same passages as the FAISS index: exact search over the same vectors and the
    # same tokens under BM25 (Milvus's own scorer, so scores differ, ranks agree here).
    faiss_passages = Assistant(seed_settings, embedder=embedder).search("شويغو بيونغ يانغ", 3)
    assert [p.chunk.text for p in passages] == [p.chunk.text for p in faiss_passages]
    english = assistant.search("Why did Shoigu visit North Korea?", 3)
    assert english and all(p.lexical_score is None for p in english)

    assert set(outcomes(ingestor.ingest([corpus])).values()) == {"unchanged"}
    changed = corpus / SHOIGU
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nفقرة جديدة عن قمة فلاديفوستوك.",
                       encoding="utf-8")
    assert outcomes(ingestor.ingest([corpus]))[SHOIGU] == "updated"
    found = assistant.search("فقرة جديدة عن قمة فلاديفوستوك", 5)
    assert found[0].document.source_file == SHOIGU and "فقرة جديدة" in found[0].chunk.text
    assert len(assistant.index.by_file[str(changed)]) == 1  # the file's old rows are gone

    removed = ingestor.remove([SHOIGU])
    assert outcomes(removed) == {SHOIGU: "removed"}
    assert str(changed) not in assistant.index.by_file
    assert all(p.document.source_file != SHOIGU for p in assistant.search("شويغو", 10))

    again = ingestor.ingest([corpus])
    assert outcomes(again)[SHOIGU] == "added"
    assert assistant.search("فقرة جديدة عن قمة فلاديفوستوك", 5)[0].document.source_file == \
        SHOIGU
    assert assistant.index.size == sum(f.chunks for f in first.files) - \
        next(f.chunks for f in first.files if Path(f.path).name == SHOIGU) + \
        next(f.chunks for f in again.files if Path(f.path).name == SHOIGU)


def test_another_process_reads_the_index(corpus, settings, embedder, tmp_path):
    Ingestor(settings, embedder).ingest([corpus])
    # Milvus Lite's file is one process's at a time (a lock): stop this one's engine, as
    # the exit of an ingest command does, then read the index from a fresh process.
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(settings.milvus_target)
    env = {**os.environ, "RAG_VECTOR_STORE": "milvus", "RAG_INDEX_DIR": str(settings.index_dir),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "search", "شويغو بيونغ يانغ", "-k",
                           "2"], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "شويغو" in done.stdout


def test_missing_index_says_how_to_build_one(settings, embedder):
    with pytest.raises(IndexStoreError, match="rag ingest"):
        load_index(settings, embedder)


def test_an_interrupted_write_loses_nothing_and_the_next_write_heals_it(
        corpus, settings, embedder, monkeypatch):
    ingestor = Ingestor(settings, embedder)
    ingestor.ingest([corpus])
    index = load_index(settings, embedder)
    before = index.size
    changed = corpus / SHOIGU
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nفقرة عن قمة فلاديفوستوك.",
                       encoding="utf-8")

    def killed(*args, **kwargs):  # the process dies after inserting, before deleting
        raise KeyboardInterrupt

    monkeypatch.setattr("pymilvus.MilvusClient.delete", killed)
    with pytest.raises(KeyboardInterrupt):
        ingestor.ingest([corpus])
    monkeypatch.undo()
    index = load_index(settings, embedder)
    assert index.size > before  # old and new rows of the file: nothing lost
    assert len(index.by_file[str(changed)]) == 1  # readers see the file's newest documents
    assert "فلاديفوستوك" in index.documents[index.by_file[str(changed)][0]].text
    assert Assistant(settings, embedder=embedder).search("قمة فلاديفوستوك", 10)  # no KeyError

    stale = index.size
    ingestor.remove(["000_6e296b17c1da352f.txt"])  # any write deletes the stale rows
    healed = load_index(settings, embedder)
    assert healed.size < stale - 1
    everything = healed.chunks_at([row for row, _ in healed.dense_search(
        embedder.embed_query("شويغو"), healed.size)])
    assert len(everything) == healed.size
    assert {c.doc_id for c in everything.values()} == set(healed.documents)

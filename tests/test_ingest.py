"""Ingestion with the real embedding model: incremental, safe, and honest about every file."""

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import IndexStoreError
from rag.ingest import Ingestor, load_index
from rag.store import IndexStore

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.load(index_dir=tmp_path / "index")


def outcomes(report) -> dict[str, str]:
    return {Path(f.path).name: f.status for f in report.files}


def names(data) -> set[str]:
    return {d.source_file for d in data.documents.values()}


def test_seeds_yield_one_document_per_article_and_teaser(seed_settings, embedder):
    data = load_index(seed_settings, embedder)
    kinds = sorted((d.source_file, d.kind) for d in data.documents.values())
    assert len([k for k in kinds if k[1] == "article"]) == 5
    assert len([k for k in kinds if k[1] == "teaser"]) == 3
    assert all(d.title for d in data.documents.values())


def test_every_chunk_offset_slices_its_text_out_of_the_document(seed_settings, embedder):
    data = load_index(seed_settings, embedder)
    assert data.size > 20
    for chunk in data.chunks:
        assert data.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
        assert embedder.count_tokens(chunk.text) <= 512  # the e5 model reads at most 512


def test_incremental_changed_pruned_and_removed(corpus, settings, embedder):
    ingestor = Ingestor(settings, embedder)
    first = ingestor.ingest([corpus])
    assert set(outcomes(first).values()) == {"added"} and first.chunks > 0

    again = ingestor.ingest([corpus])
    assert set(outcomes(again).values()) == {"unchanged"}
    version = IndexStore(settings.index_dir).current_version()

    changed = corpus / "003_f262f470ec2870cc.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nفقرة جديدة عن قمة فلاديفوستوك.",
                       encoding="utf-8")
    (corpus / "000_6e296b17c1da352f.txt").unlink()
    report = ingestor.ingest([corpus], prune=True)
    states = outcomes(report)
    assert states["003_f262f470ec2870cc.txt"] == "updated"
    assert states["000_6e296b17c1da352f.txt"] == "removed"
    assert IndexStore(settings.index_dir).current_version() != version
    data = load_index(settings, embedder)
    assert "000_6e296b17c1da352f.txt" not in names(data)
    assert any("فلاديفوستوك" in c.text for c in data.chunks)
    assert len(data.chunks) == data.size == len(data.embeddings)  # replaced chunks are gone
    assert all(c.doc_id in data.documents for c in data.chunks)

    removed = ingestor.remove(["003_f262f470ec2870cc.txt", "not-there.txt"])
    assert outcomes(removed) == {"003_f262f470ec2870cc.txt": "removed", "not-there.txt": "rejected"}
    assert "003_f262f470ec2870cc.txt" not in names(load_index(settings, embedder))


def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    """dirA/article.txt and dirB/article.txt: one name, two articles."""
    a, b = tmp_path / "dirA", tmp_path / "dirB"
    a.mkdir()
    b.mkdir()
    shutil.copy(SEEDS / "001_0f7e11fcbccc7f40.txt", a / "article.txt")
    shutil.copy(SEEDS / "000_6e296b17c1da352f.txt", b / "article.txt")
    shutil.copy(SEEDS / "003_f262f470ec2870cc.txt", b / "other.txt")
    return a, b


def test_one_name_in_two_folders_is_two_documents(tmp_path, settings, embedder):
    """`rag ingest dirA/; rag ingest dirB/` said "updated" and dirA's article was gone."""
    a, b = two_folders(tmp_path)
    ingestor = Ingestor(settings, embedder)
    assert outcomes(ingestor.ingest([a])) == {"article.txt": "added"}
    assert outcomes(ingestor.ingest([b])) == {"article.txt": "added", "other.txt": "added"}
    data = load_index(settings, embedder)
    assert sorted(data.by_file) == sorted(str(p) for p in (a / "article.txt", b / "article.txt",
                                                           b / "other.txt"))
    # A bare name that two files share is refused, with the paths to choose from.
    ambiguous = ingestor.remove(["article.txt"]).files[0]
    assert ambiguous.status == "rejected" and "dirA" in ambiguous.reason
    assert ingestor.remove([str(a / "article.txt")]).files[0].status == "removed"
    assert sorted(load_index(settings, embedder).by_file) == [str(b / "article.txt"),
                                                              str(b / "other.txt")]


def test_prune_only_prunes_inside_the_folders_it_is_given(tmp_path, settings, embedder):
    a, b = two_folders(tmp_path)
    ingestor = Ingestor(settings, embedder)
    ingestor.ingest([a, b])
    (b / "other.txt").unlink()
    report = ingestor.ingest([a], prune=True)  # dirB's files are not dirA's business
    assert outcomes(report) == {"article.txt": "unchanged"}
    assert len(load_index(settings, embedder).by_file) == 3
    report = ingestor.ingest([b], prune=True)
    assert outcomes(report) == {"article.txt": "unchanged", "other.txt": "removed"}
    assert sorted(load_index(settings, embedder).by_file) == [str(a / "article.txt"),
                                                              str(b / "article.txt")]


def test_an_index_keyed_by_bare_names_is_matched_once_and_migrated(tmp_path, settings,
                                                                     embedder):
    a, _ = two_folders(tmp_path)
    ingestor = Ingestor(settings, embedder)
    ingestor.ingest([a])
    store = IndexStore(settings.index_dir)
    old = store.load(mmap=False)  # rewrite it as an index from before paths were kept
    legacy = [replace(d, source_path="") for d in old.documents.values()]
    with store.writer_lock():
        store.write(old.manifest, legacy, old.chunks, np.asarray(old.embeddings), 1000)
    assert list(load_index(settings, embedder).by_file) == ["article.txt"]
    report = ingestor.ingest([a])
    assert outcomes(report) == {"article.txt": "unchanged"}
    assert report.notes and "now known by their path" in report.notes[0]
    data = load_index(settings, embedder)
    assert list(data.by_file) == [str(a / "article.txt")]
    assert data.size == old.size == len(data.embeddings)


def test_links_leading_out_of_the_folder_never_reach_the_index(tmp_path, settings, embedder):
    """`ln -s /etc/passwd d/passwd.txt; rag ingest d/; rag search "root bin bash"` returned the
    password file's lines."""
    secret = tmp_path / "private" / "notes.txt"
    secret.parent.mkdir()
    shutil.copy(SEEDS / "001_0f7e11fcbccc7f40.txt", secret)
    folder = tmp_path / "d"
    folder.mkdir()
    shutil.copy(SEEDS / "003_f262f470ec2870cc.txt", folder / "article.txt")
    (folder / "passwd.txt").symlink_to(secret)
    os.mkfifo(folder / "pipe.txt")  # hung the ingest forever
    report = Ingestor(settings, embedder).ingest([folder])
    states = outcomes(report)
    assert states == {"article.txt": "added", "passwd.txt": "rejected", "pipe.txt": "rejected"}
    assert list(load_index(settings, embedder).by_file) == [str(folder / "article.txt")]


def test_a_file_that_would_make_too_many_passages_needs_allow_large(tmp_path, settings,
                                                                      embedder):
    folder = tmp_path / "big"
    folder.mkdir()
    shutil.copy(SEEDS / "004_99c36a4a58da5804.txt", folder / "report.txt")
    ingestor = Ingestor(replace(settings, max_chunks_per_file=5), embedder)
    refused = ingestor.ingest([folder]).files[0]
    assert refused.status == "rejected"
    assert "over the limit of 5" in refused.reason and "--allow-large" in refused.reason
    assert ingestor.ingest([folder], allow_large=True).files[0].status == "added"


def test_bad_files_are_rejected_one_by_one_and_the_rest_ingest(tmp_path, settings, embedder):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = (SEEDS / "001_0f7e11fcbccc7f40.txt").read_bytes()
    (folder / "good.txt").write_bytes(good)
    (folder / "twin.txt").write_bytes(good)  # the same file under a second name
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (folder / "cp1256.txt").write_bytes("مقال عن كوريا الشمالية وروسيا".encode("cp1256"))
    (folder / "report.docx").write_bytes(b"PK\x03\x04")
    with (folder / "huge.txt").open("wb") as f:
        f.truncate(51 * 2**20)
    report = Ingestor(settings, embedder).ingest([folder, tmp_path / "vanished.txt"])
    states = outcomes(report)
    assert states.pop("good.txt") == "added"
    assert states == {name: "rejected" for name in states}, states
    assert len(states) == 7
    reasons = " | ".join(f.reason for f in report.files)
    for words in ("same content", "empty", "binary", "UTF-8", ".docx", "too large",
                  "no such file or folder"):
        assert words in reasons, words
    assert len(load_index(settings, embedder).by_file) == 1


@pytest.mark.parametrize("store", ["faiss", "milvus"])
def test_an_index_from_other_settings_is_refused_with_a_rebuild_hint(corpus, settings, embedder,
                                                                     store):
    if store == "milvus":
        pytest.importorskip("milvus_lite", reason="pip install -e '.[milvus]'")
    settings = settings.with_values({"vector_store": store})
    Ingestor(settings, embedder).ingest([corpus / "001_0f7e11fcbccc7f40.txt"])
    other = settings.with_values({"chunk_tokens": 90})
    with pytest.raises(IndexStoreError, match="rebuild"):
        load_index(other, embedder)
    with pytest.raises(IndexStoreError, match="rebuild"):
        Ingestor(other, embedder).ingest([corpus])
    # --rebuild starts over with the new settings.
    Ingestor(other, embedder).ingest([corpus], rebuild=True)
    assert len(load_index(other, embedder).by_file) == 5


def _index_state(index_dir: Path):
    """What a reader sees: the set of (file, chunk count)."""
    store = IndexStore(index_dir)
    if not store.exists():
        return None
    data = store.load()
    return sorted((name, sum(len(data.chunks_of(i)) for i in ids))
                  for name, ids in data.by_file.items())


# Runs the real `rag ingest` in a child process that SIGKILLs itself at the K-th step of
# writing the index (the segment's FAISS file, postings and texts, its folder's rename, the
# manifest, the version folder's rename, the switch of CURRENT): kill points that a timer
# would almost never hit, since writing takes milliseconds of a ~10 s run.
KILLER = """
import os, signal, sys
import rag.segment as segment
import rag.store as store
K = int(os.environ["KILL_AT"])
calls = 0
def deadly(func):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == K:
            os.kill(os.getpid(), signal.SIGKILL)
        return func(*args, **kwargs)
    return wrapper
store.write_atomic = deadly(store.write_atomic)
store.fsync_dir = deadly(store.fsync_dir)
store.faiss.write_index = deadly(store.faiss.write_index)
segment.Postings.save = deadly(segment.Postings.save)
segment._write_texts = deadly(segment._write_texts)
segment.fsync_dir = deadly(segment.fsync_dir)
from rag.cli import main
sys.argv = ["rag", "ingest", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("write", ["segment", "merge"])
def test_kill_9_during_ingestion_leaves_the_old_or_the_new_index(tmp_path, corpus, write):
    """Each kill point leaves an index that loads and equals the state before or after:
    while a new segment is written, and while one is merged from the older ones."""
    index_dir = tmp_path / "index"
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir)}
    firsts = ["000_6e296b17c1da352f.txt"] + (["001_0f7e11fcbccc7f40.txt"] if write == "merge"
                                             else [])
    for name in firsts:
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(corpus / name)],
                       env=env, check=True, capture_output=True)
    if write == "merge":  # two segments; a third would be one too many: the smaller merges
        env["RAG_MAX_SEGMENTS"] = "2"
        assert len(IndexStore(index_dir).load().segments) == 2
    old = _index_state(index_dir)
    shutil.copytree(index_dir, tmp_path / "old-index")

    results = {}
    for kill_at in range(1, 16):
        shutil.rmtree(index_dir)
        shutil.copytree(tmp_path / "old-index", index_dir)
        proc = subprocess.run([sys.executable, "-c", KILLER, str(corpus)],
                              env={**env, "KILL_AT": str(kill_at)}, capture_output=True,
                              check=False)
        state = _index_state(index_dir)
        if proc.returncode == 0:  # K is past the last step: the run completed
            new = state
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
        results[kill_at] = state
    else:
        pytest.fail("the ingestion never completed")
    assert new != old and len(results) >= 5
    for kill_at, state in results.items():
        assert state in (old, new), kill_at
    print("kill points:", {k: "new" if s == new else "old" for k, s in results.items()})
    # The leftovers of a killed run do not disturb the next one.
    subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(corpus)], env=env,
                   check=True, capture_output=True)
    assert _index_state(index_dir) == new
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    segments = IndexStore(index_dir).load().segments
    assert len(segments) == 2  # the first, and the run's (with the smaller one merged in)
    listed = {s.segment_id for s in segments}
    previous = (index_dir / "PREVIOUS").read_text()
    listed |= {s.segment_id for s in IndexStore(index_dir)._load_version(previous, None,
                                                                          True).segments}
    assert {p.name for p in (index_dir / "segments").iterdir()} == listed  # no leftovers


def test_adding_an_article_writes_only_its_segment_and_rag_compact_merges(corpus, settings,
                                                                           embedder):
    ingestor = Ingestor(settings, embedder)
    first = ingestor.ingest([corpus / "000_6e296b17c1da352f.txt",
                             corpus / "001_0f7e11fcbccc7f40.txt"])
    segments = settings.index_dir / "segments"
    before = {p: p.stat().st_mtime_ns for p in segments.rglob("*") if p.is_file()}
    added = ingestor.ingest([corpus / "003_f262f470ec2870cc.txt"])
    after = {p: p.stat().st_mtime_ns for p in segments.rglob("*") if p.is_file()}
    assert {p: t for p, t in after.items() if p in before} == before
    new = {p.relative_to(segments).parts[0] for p in set(after) - set(before)}
    data = load_index(settings, embedder)
    assert len(new) == 1 and [s.size for s in data.segments] == [first.chunks, added.chunks]
    report = ingestor.compact()
    assert "2 segments merged" in report.notes[0]
    compacted = load_index(settings, embedder)
    assert len(compacted.segments) == 1
    assert _index_state(settings.index_dir) == sorted(
        (key, sum(len(data.chunks_of(i)) for i in ids)) for key, ids in data.by_file.items())

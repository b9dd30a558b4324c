"""Durability end to end: a damaged index and a full disk, seen from the command line.

tests/test_store.py covers the store's checks unit by unit, and tests/test_ingest.py's
`test_kill_9_during_ingestion_leaves_the_old_or_the_new_index` kills a real `rag ingest` at
each step of a write; this file adds what a user sees: `rag search` on a corrupted or truncated
index, and `rag ingest` when the disk fills up half-way through writing the new version.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import copy_index

from rag.config import Settings
from rag.errors import IngestError
from rag.ingest import Ingestor
from rag.store import IndexStore

NEW_ARTICLE = ("Velmora harbour gets a second crane\n\n" + "The port of Velmora installed a "
               "second container crane on Thursday, the port authority said. " * 40)


def rag_cli(*args: str, index_dir: Path, cwd: Path, timeout: int = 300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(index_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], check=False, cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


PROGRESS_BAR = re.compile(r"^[^|]*:\s+\d+%\|")  # tqdm: "embedding chunks:  50%|█████ | 4/8"


def error_lines(stderr: str) -> list[str]:
    """The CLI's own messages, without the progress bars (model loading, reading, embedding)."""
    return [ln for ln in re.split(r"[\r\n]+", stderr)
            if ln.strip() and not PROGRESS_BAR.match(ln.strip())]


def index_state(index_dir: Path) -> tuple[str | None, list[str]]:
    store = IndexStore(index_dir)
    return store.current_version(), sorted(store.load().documents)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "damage", "runner"), [
    ("vectors.faiss", "corrupt", "process"),  # the real `rag` in a child process
    ("texts.sqlite", "truncate", "click"),  # the same command run in-process (faster)
])
def test_search_on_a_damaged_index_names_the_rebuild(seed_copy, tmp_path, name, damage,
                                                      runner):
    index = seed_copy.index_dir
    version = index / IndexStore(index).current_version()
    [segment] = json.loads((version / "manifest.json").read_text())["segments"]  # the seeds'
    path = index / "segments" / segment["id"] / name
    data = bytearray(path.read_bytes())
    if damage == "corrupt":  # same size, different bytes: only the hash can tell
        middle = len(data) // 2
        data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))

    if runner == "process":
        result = rag_cli("search", "x", index_dir=index, cwd=tmp_path)
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        from click.testing import CliRunner

        from rag.cli import cli

        result = CliRunner().invoke(cli, ["search", "x"], env={"RAG_INDEX_DIR": str(index)})
        code, stdout, stderr = result.exit_code, result.stdout, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
    print(f"\n{damage} {name}: exit {code}; stderr: {stderr.strip()!r}")
    assert code == 1, stderr
    assert stdout == ""
    lines = error_lines(stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: ") and "rag ingest --rebuild" in lines[0], lines
    assert name in lines[0] and "Traceback" not in stderr


@contextlib.contextmanager
def tiny_tmpfs(folder: Path, size: int):
    """A tmpfs of `size` bytes mounted at `folder`, or None where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = False
    if os.geteuid() == 0:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                 str(folder)], check=False, capture_output=True, timeout=30)
        mounted = result.returncode == 0
    try:
        yield folder if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False, capture_output=True, timeout=30)


@pytest.mark.timeout(600)
def test_disk_full_during_ingest_keeps_the_old_index(tmp_path, seed_settings, embedder,
                                                     monkeypatch):
    article = tmp_path / "velmora_crane.txt"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    old_pages = sum(-(-p.stat().st_size // 4096) for p in seed_settings.index_dir.rglob("*")
                    if p.is_file())
    # Room for the old version and 16 KB: the new segment (~60 KB) fails part-way through.
    size = (old_pages + 4) * 4096
    with tiny_tmpfs(tmp_path / "disk", size) as disk:
        if disk is not None:
            index = copy_index(seed_settings, disk / "index")
            before = index_state(index)
            result = rag_cli("ingest", str(article), index_dir=index, cwd=tmp_path)
            print(f"\ntmpfs of {size:,} B: exit {result.returncode}; "
                  f"stderr: {result.stderr.strip()!r}")
            assert result.returncode == 1, result.stderr + result.stdout
            lines = error_lines(result.stderr)
            assert len(lines) == 1 and lines[0].startswith("Error: "), lines
            assert re.search("No space left on device|the disk may be full", lines[0]), lines
            assert "previous index is unchanged" in lines[0], lines
            assert "Traceback" not in result.stderr
        else:  # no mount here: the full disk is simulated at the write itself
            index = copy_index(seed_settings, tmp_path / "index")
            before = index_state(index)

            def disk_full(*args, **kwargs):
                raise OSError(28, "No space left on device")

            monkeypatch.setattr("rag.segment.np.save", disk_full)
            with pytest.raises(IngestError) as excinfo:
                Ingestor(Settings.load(index_dir=index), embedder).ingest([article])
            monkeypatch.undo()
            print(f"\nsimulated ENOSPC: {excinfo.value}")
            assert "No space left on device" in str(excinfo.value)
        assert index_state(index) == before  # the same version, loading, with the same files
        assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]
        assert not [p for p in (index / "segments").iterdir() if p.name.startswith(".tmp-")]

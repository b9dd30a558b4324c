"""Helpers shared by the reliability tests (imported by name: this folder is on sys.path)."""

from __future__ import annotations

import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
DATA = Path(__file__).resolve().parent / "data"
for _path in (str(ROOT), str(TESTS)):  # `import app` and `from test_app_api import app_server`
    if _path not in sys.path:
        sys.path.insert(0, _path)

from rag import models
from rag.config import Settings

SMALL_LLM = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def llm_missing(name: str) -> str:
    """Why the named LLM cannot be loaded here, or ""."""
    settings = Settings.load(llm=name)
    try:
        path = models.llm_path(settings, name)
    except Exception as e:  # noqa: BLE001 - an unknown name or a missing file: skip
        return str(e)
    return "" if Path(path).is_file() else f"{name} is not in {settings.model_dir}"


def copy_index(settings: Settings, target: Path) -> Path:
    """A private copy of an index folder (the seed index is shared by the session)."""
    shutil.copytree(settings.index_dir, target, ignore=shutil.ignore_patterns(".tmp-*", ".lock"))
    return target


@contextmanager
def documents_in_server_index(server, paths: list[Path], embedder):
    """Ingest `paths` into the running app's index (it reloads a new version by itself), and
    remove them again afterwards so that the shared server is left as it was."""
    from rag.ingest import Ingestor

    settings = Settings.load(index_dir=Path(server.workdir) / "index")
    report = Ingestor(settings, embedder).ingest(paths)
    assert report.count("added") + report.count("unchanged") == len(paths), report.files
    try:
        yield settings
    finally:
        Ingestor(settings, embedder).remove([Path(p).name for p in paths])

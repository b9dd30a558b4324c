"""Fixtures of the reliability suite (bad input, faults, load, exposure).

The real app is the one `tests/test_app_api.py` starts once per session (`app_server()`: small
LLM, a temporary copy of the seed index, 1 MB upload limit); the browser and load tests reuse
it. The session fixtures `embedder`, `seed_settings` and `small_llm` come from
`tests/conftest.py`.
"""

from __future__ import annotations

import pytest
from reliability_support import copy_index

from rag.config import Settings


@pytest.fixture
def seed_copy(tmp_path, seed_settings) -> Settings:
    """Settings over a copy of the seed index that this test may damage or fill."""
    return Settings.load(index_dir=copy_index(seed_settings, tmp_path / "index"))

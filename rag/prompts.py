"""Prompt templates live as files in prompts/, one per purpose and language: <purpose>.<lang>.txt"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .errors import ConfigError


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def load_prompt(prompts_dir: Path, purpose: str, language: str) -> str:
    """The template for `purpose` ("answer", "question", "refusal", "condense") in `language`,
    falling back to English for a language that has no file of its own."""
    for lang in (language, "en"):
        path = Path(prompts_dir) / f"{purpose}.{lang}.txt"
        if path.is_file():
            return _read(path)
    raise ConfigError(f"No prompt template {purpose}.{language}.txt in {prompts_dir}.")

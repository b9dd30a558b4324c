"""Settings: defaults, then a TOML file, then RAG_* variables, then explicit overrides."""

from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError


def test_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.toml").write_text('top_k = 7\nllm = "/models/a.gguf"\nverify_hashes = false\n')
    monkeypatch.setenv("RAG_TOP_K", "9")
    settings = Settings.load()
    assert settings.top_k == 9  # environment beats the file
    assert settings.llm == "/models/a.gguf"  # the file beats the default
    assert settings.verify_hashes is False
    assert Settings.load(top_k=3).top_k == 3  # explicit overrides beat everything


def test_types_are_converted(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_INDEX_DIR", "~/idx")
    monkeypatch.setenv("RAG_TEMPERATURE", "0.5")
    monkeypatch.setenv("RAG_VERIFY_HASHES", "no")
    settings = Settings.load()
    assert settings.index_dir == Path.home() / "idx"
    assert settings.temperature == 0.5 and settings.verify_hashes is False


@pytest.mark.parametrize("content, message", [
    ("top_k = 'many'", "must be a whole number"),
    ("nonsense = 1", "Unknown setting 'nonsense'"),
    ("top_k = ", "Cannot read settings file"),
])
def test_bad_settings_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        Settings.load(path)


def test_named_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "missing.toml")


def test_bad_environment_value(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_VERIFY_HASHES", "maybe")
    with pytest.raises(ConfigError, match="verify_hashes"):
        Settings.load()

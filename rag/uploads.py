"""The uploads folder: where the originals of uploaded files are kept, next to the index.

    uploads = UploadFolder.for_settings(settings)
    accepted, rejected = uploads.check(paths)          # names cleaned; type and size checked
    report = uploads.add(accepted, assistant)          # copied, ingested, kept if indexed
    uploads.remove(["article.txt"], assistant)         # out of the index and the folder

The folder is `<index folder>/../uploads/` (a test index in a temporary folder keeps its
uploads there too), so that the index can be rebuilt from the originals with
`rag ingest --rebuild seeds/ uploads/`. One lock per folder serialises the writes: an upload
or a removal changes the index and the folder together.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .assistant import Assistant
from .config import Settings
from .files import sha256_of
from .types import IngestReport, Progress

UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".pdf")
KEPT = ("added", "updated", "unchanged")  # ingest outcomes whose file stays in the folder


@dataclass(frozen=True)
class Rejection:
    """A file refused before ingestion: `reason` is "type", "size" or "duplicate" (a second
    file of the same cleaned name in one batch)."""

    name: str  # the cleaned file name
    reason: str
    suffix: str = ""
    size: int = 0  # bytes


def safe_filename(name: str, max_length: int = 120) -> str:
    """A file name that cannot escape the uploads folder or hide: no folders, no leading dots,
    no control or shell-special characters; letters in any script (Arabic too) are kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]  # drop any folder part, POSIX or Windows
    name = "".join(c if (c.isalnum() or c in "._- ()") else "_" for c in name)
    name = re.sub(r"_+", "_", name).strip(" ._")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.lower()[:8]
    stem = stem.strip(" ._")[: max_length - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix}" if suffix else stem


class UploadFolder:
    """Checks, stages and keeps uploaded files; adds them to and removes them from the index."""

    def __init__(self, folder: Path, max_mb: int) -> None:
        self.folder = Path(folder).resolve()
        self.max_mb = max_mb
        self.lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> UploadFolder:
        return cls(settings.index_dir.parent / "uploads", settings.max_upload_mb)

    def check(self, paths: Iterable[Path]) -> tuple[dict[str, Path], list[Rejection]]:
        """The files that may be added ({cleaned name: path}) and the ones refused, in order."""
        accepted: dict[str, Path] = {}
        rejected: list[Rejection] = []
        for path in paths:
            name = safe_filename(path.name)
            suffix = Path(name).suffix.lower()
            size = path.stat().st_size if path.exists() else 0
            if suffix not in UPLOAD_TYPES:
                rejected.append(Rejection(name, "type", suffix=suffix))
            elif size > self.max_mb * 2**20:
                rejected.append(Rejection(name, "size", size=size))
            elif name in accepted:
                rejected.append(Rejection(name, "duplicate"))
            else:
                accepted[name] = path
        return accepted, rejected

    def add(self, files: Mapping[str, Path], assistant: Assistant,
            progress: Progress | None = None) -> IngestReport:
        """Copy `files` ({cleaned name: path}, from `check`) to a staging folder, ingest them,
        and keep the ones the index took; the staging folder is removed in any case.

        An upload is known by its place in this folder, so it never replaces a document
        ingested from elsewhere. One named like an earlier upload with other content is kept
        beside it as "name (2).txt" rather than replacing it without a word."""
        staging = self.folder / f".incoming-{uuid.uuid4().hex[:12]}"
        try:
            with self.lock:
                if progress:
                    progress("copying", 0, len(files))
                staging.mkdir(parents=True, exist_ok=True)
                names = self._kept_names(files)
                for name, path in files.items():
                    shutil.copyfile(path, staging / names[name])
                staged = [staging / names[name] for name in files]
                report = assistant.ingest(
                    staged, progress=progress, keys={p: str(self.folder / p.name) for p in staged})
                renamed = {new: old for old, new in names.items() if new != old}
                for outcome in report.files:
                    name = Path(outcome.path).name
                    outcome.renamed_from = renamed.get(name, "")
                    if outcome.status in KEPT:
                        os.replace(staging / name, self.folder / name)
                return report
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _kept_names(self, files: Mapping[str, Path]) -> dict[str, str]:
        """{cleaned name: name to keep it under}: the same, unless the folder holds another
        file of that name with other content."""
        names: dict[str, str] = {}
        for name, path in files.items():
            kept, n = name, 1
            stem, suffix = os.path.splitext(name)
            digest = sha256_of(path)
            while kept in names.values() or (self.folder / kept).exists() and \
                    sha256_of(self.folder / kept) != digest:
                n += 1
                kept = f"{stem} ({n}){suffix}"
            names[name] = kept
        return names

    def remove(self, names: list[str], assistant: Assistant) -> IngestReport:
        """Remove files from the index, and their kept copies from the folder."""
        with self.lock:
            report = assistant.remove(names)
            for outcome in report.files:
                if outcome.status == "removed":  # by key (a path), or a bare name (old index)
                    copy = Path(outcome.path)
                    copy = copy if copy.is_absolute() else self.folder / safe_filename(copy.name)
                    if copy.parent == self.folder and copy.is_file():
                        copy.unlink()
        return report

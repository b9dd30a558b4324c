"""Gradio's copies of uploaded files.

Gradio keeps every uploaded file in its temporary folder and serves it from there for as long
as the file exists: three 90 MB uploads stayed after shutdown, and a document removed in the app
could still be downloaded. The app gives Gradio a folder of this process's own, empties it
after each upload (the uploads folder keeps the originals the index took), removes it at exit,
and removes at start the folders of app processes that are gone.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

PREFIX = "rag-gradio-"


def own_folder() -> Path:
    """A new temporary folder for this process, after removing those of dead processes."""
    base = Path(tempfile.gettempdir())
    for old in base.glob(f"{PREFIX}*"):
        pid = old.name.removeprefix(PREFIX).split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)).resolve()
    atexit.register(shutil.rmtree, folder, True)
    return folder


def discard(paths: Iterable[Path]) -> None:
    """Delete Gradio's copies of these files (and the per-file folders Gradio made for them).
    Only inside Gradio's upload folder: a path from anywhere else is left alone."""
    folder = Path(os.environ.get("GRADIO_TEMP_DIR") or "").resolve()
    if not os.environ.get("GRADIO_TEMP_DIR"):
        return  # not served by `rag.web.server` (a test calling the handler): nothing of ours
    for path in paths:
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(folder) or resolved == folder:
            continue
        resolved.unlink(missing_ok=True)
        parent = resolved.parent
        if parent != folder and not any(parent.iterdir()):
            parent.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True

"""What every session of the web app shares: the Assistant, the uploads folder, the answers
being written (one per session), and a warm-up that loads the models in the background at start.

Loading is the Assistant's own (its `embedder` and `llm` load once, on first use, and block
other callers until then); the warm-up only uses them early, so that the page comes up at
once and the first question does not pay for the loading.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from ..assistant import Assistant
from ..config import Settings
from ..errors import IndexStoreError, RagError
from ..store import IndexData
from ..uploads import UploadFolder

log = logging.getLogger("rag.app")


class Service:
    """The shared Assistant, with its models warmed up in a background thread by `start()`."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.uploads = UploadFolder.for_settings(settings)
        # Set once the warm-up is past the embedder (`Assistant` tells only about the LLM).
        self.embedder_ready = threading.Event()
        self.errors: dict[str, str] = {}  # "embedder" or "llm": why the warm-up failed
        self.load_seconds: dict[str, float] = {}
        self._warm_up: threading.Thread | None = None
        self._runs: dict[str, Run] = {}  # session -> the answer being written there
        self._runs_lock = threading.Lock()

    # ---------------------------------------------------------------- models

    def start(self) -> None:
        self._warm_up = threading.Thread(target=self._load, name="load-models", daemon=True)
        self._warm_up.start()

    def _load(self) -> None:
        t0 = time.monotonic()
        try:
            self.assistant.embedder  # noqa: B018 - loads it
            self.load_seconds["embedder"] = time.monotonic() - t0
            try:  # load the index and warm the retriever (the lexical index is built lazily)
                self.assistant.search("warm up", 1)
            except IndexStoreError as e:
                log.warning("no usable index yet: %s", e)
        except Exception as e:
            self.errors["embedder"] = _reason(e)
            log.exception("loading the embedding model failed")
        finally:
            self.embedder_ready.set()
        t1 = time.monotonic()
        try:
            self.assistant.llm  # noqa: B018 - loads it
            self.load_seconds["llm"] = time.monotonic() - t1
        except Exception as e:
            self.errors["llm"] = _reason(e)
            log.exception("loading the language model failed")
        log.info("models loaded: %s", {k: round(v, 1) for k, v in self.load_seconds.items()})

    def warming_up(self) -> bool:
        return self._warm_up is not None and self._warm_up.is_alive()

    def llm_loading(self, wait: float = 0.0) -> bool:
        """True while the warm-up is still loading the language model (after waiting up to
        `wait` seconds for it). Without a warm-up, the first answer loads it."""
        if self.assistant.llm_loaded or self._warm_up is None:
            return False
        self._warm_up.join(wait)
        return not self.assistant.llm_loaded and self._warm_up.is_alive()

    def state(self, part: str) -> str:
        """"ready", "loading" or "failed": how the status bar shows "embedder" or "llm"."""
        if part == "llm" and self.assistant.llm_loaded:
            return "ready"
        if part in self.errors:
            return "failed"
        if part == "embedder" and self.embedder_ready.is_set():
            return "ready"
        return "loading"

    def index(self) -> IndexData | None:
        """The current index, or None while there is none (or the embedder is not loaded)."""
        if self.state("embedder") != "ready":
            return None
        try:
            return self.assistant.index
        except IndexStoreError:
            return None

    # ---------------------------------------------------------------- running answers

    def start_run(self, session: str) -> Run | None:
        """A new answer for `session`, or None while one is still being written there."""
        with self._runs_lock:
            if session in self._runs:
                return None
            run = self._runs[session] = Run()
            return run

    def run(self, session: str) -> Run | None:
        return self._runs.get(session)

    def finished(self, session: str, run: Run) -> None:
        with self._runs_lock:
            if self._runs.get(session) is run:
                del self._runs[session]

    def stop(self, session: str) -> None:
        """End the session's answer; what was written so far is kept."""
        run = self._runs.get(session)
        if run is not None:
            run.cancel.set()

    def discard(self, session: str) -> None:
        """End the session's answer and show nothing more of it (a new conversation)."""
        with self._runs_lock:
            run = self._runs.pop(session, None)
        if run is not None:
            run.discarded = True
            run.cancel.set()


class Run:
    """One answer being written: `cancel` ends it, `discarded` hides whatever comes after."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex  # the conversation state names the run its question started
        self.cancel = threading.Event()
        self.started = False  # its answer is streaming (set once, by WebApp.answer)
        self.discarded = False


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, RagError) else repr(error)

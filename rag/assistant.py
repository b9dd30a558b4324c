"""The assistant: question -> passages -> evidence -> prompt -> streamed answer -> checked citations.

Read `Assistant.stream` top to bottom to see every step a question goes through.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .citations import MARKER, CitationChecker
from .config import Settings
from .embedder import Embedder
from .errors import QueryError
from .evidence import EvidenceSelector
from .ingest import Ingestor, load_index
from .language import SUPPORTED, detect_language
from .llm import Generation, LocalLLM
from .prompts import load_prompt
from .retriever import HybridRetriever
from .store import IndexData, IndexStore
from .types import Answer, Evidence, IngestReport, Passage

log = logging.getLogger(__name__)

NOT_FOUND = "NOT_FOUND"
# The model writes the token as "Not_FOUND" or "NOT FOUND" too.
_SAYS_NOT_FOUND = re.compile(r"NOT[\s_]?FOUND", re.IGNORECASE)
# The small models sometimes run away ("1000000000…"): 16 identical characters in a row.
_RUNAWAY = re.compile(r"(\S)\1{15,}")
# The model sometimes starts with a label ("الإجابة: الثلاثاء"), which is not part of the answer.
_LABELS = ("answer:", "الإجابة:", "الجواب:")
UNSUPPORTED_LANGUAGE = ("I can answer questions in Arabic and English only.\n"
                        "أستطيع الإجابة عن الأسئلة بالعربية والإنجليزية فقط.")
Turn = tuple[str, str]  # (question, answer)


class Assistant:
    """Loads the models once and answers, searches and ingests. Safe to share across threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 llm: LocalLLM | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._llm = llm
        self._index: IndexData | None = None
        self._retriever: HybridRetriever | None = None
        self._selector: EvidenceSelector | None = None
        self._load_lock = threading.Lock()
        self._llm_lock = threading.Lock()  # separate: search must not wait for the LLM to load

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides) -> Assistant:
        settings = settings or Settings.load()
        return cls(settings.with_values(overrides) if overrides else settings)

    # ------------------------------------------------------------------ shared parts

    @property
    def embedder(self) -> Embedder:
        with self._load_lock:
            if self._embedder is None:
                self._embedder = Embedder.from_settings(self.settings)
            return self._embedder

    @property
    def llm(self) -> LocalLLM:
        with self._llm_lock:
            if self._llm is None:
                self._llm = LocalLLM.from_settings(self.settings)
            return self._llm

    @property
    def llm_loaded(self) -> bool:
        return self._llm is not None

    def retriever(self) -> HybridRetriever:
        """The retriever over the current index version, reloaded when an ingest switched it."""
        embedder = self.embedder
        version = IndexStore(self.settings.index_dir).current_version()
        with self._load_lock:
            if self._retriever is None or self._index is None or self._index.version != version:
                self._index = load_index(self.settings, embedder)
                self._retriever = HybridRetriever(self._index, embedder, self.settings)
            return self._retriever

    def _evidence_selector(self) -> EvidenceSelector:
        # One selector for the assistant's life: it caches sentence vectors across questions.
        if self._selector is None:
            self._selector = EvidenceSelector(self.embedder)
        return self._selector

    @property
    def index(self) -> IndexData:
        self.retriever()
        assert self._index is not None
        return self._index

    # ------------------------------------------------------------------ public API

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        check_question(query, self.settings.max_question_chars)
        return self.retriever().search(query, k or self.settings.top_k)

    def ingest(self, paths: Sequence[str | Path], prune: bool = False, rebuild: bool = False,
               progress=None) -> IngestReport:
        return Ingestor(self.settings, self.embedder).ingest(paths, prune=prune,
                                                             rebuild=rebuild, progress=progress)

    def remove(self, names: Sequence[str]) -> IngestReport:
        return Ingestor(self.settings, self.embedder).remove(names)

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        answer = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Turn] = (),
               cancel: threading.Event | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is generated, then the final `Answer`."""
        started = time.perf_counter()
        question = question.strip()
        check_question(question, self.settings.max_question_chars)
        language = detect_language(question)
        if language not in SUPPORTED:
            yield UNSUPPORTED_LANGUAGE
            yield Answer(question, UNSUPPORTED_LANGUAGE, language, refused=True,
                         timings={"total": time.perf_counter() - started})
            return
        timings: dict[str, float] = {}
        loading = time.perf_counter()
        retriever, llm = self.retriever(), self.llm  # loaded once; reported apart from the answer
        if time.perf_counter() - loading > 0.05:
            timings["model_loading"] = time.perf_counter() - loading
            started = time.perf_counter()

        standalone = self._standalone(question, history, language, timings) if history \
            else question

        t = time.perf_counter()
        passages = retriever.search(standalone, self.settings.top_k)
        evidence = self._evidence_selector().select(standalone, passages,
                                                    self.settings.evidence_sentences)
        timings["retrieval"] = time.perf_counter() - t

        if not evidence:
            yield from self._refuse(question, language, started, timings, standalone)
            return

        messages, timings["prompt_tokens"] = self._messages(standalone, language, evidence)
        info = Generation()
        shown = ""
        for piece in llm.stream(messages, self.settings.max_answer_tokens,
                                     self.settings.temperature,
                                     self.settings.generation_timeout_s, cancel, info):
            if _RUNAWAY.search(info.text):
                info.stopped = "runaway"
                break
            # Hold back text that may still turn out to be the refusal token or a label.
            if (_may_become_not_found(info.text) or _SAYS_NOT_FOUND.search(info.text)
                    or _may_become_label(info.text)):
                continue
            text = _without_label(info.text)
            new = text[len(shown):]
            shown = text
            yield new
        timings["first_token"] = (info.first_token_s or info.total_s) + timings["retrieval"] \
            + timings.get("condense", 0.0)
        timings["generation"] = info.total_s
        timings["answer_tokens"] = info.completion_tokens
        prompt = _render(messages)

        stopped = info.stopped in ("timeout", "cancelled")
        if _SAYS_NOT_FOUND.search(info.text) or (not info.text.strip() and not stopped):
            yield from self._refuse(question, language, started, timings, standalone, prompt)
            return
        if stopped and _may_become_not_found(info.text):
            # Stopped before any text was shown (e.g. a timeout while the prompt was read):
            # that is not "the articles don't say".
            info.text = ""
        checked = CitationChecker(self.embedder, self.settings.lexical_support,
                                  self.settings.dense_support).check(_without_label(info.text),
                                                                     evidence)
        if stopped:
            note = {"timeout": " …(stopped: the answer took too long)",
                    "cancelled": " …(stopped)"}[info.stopped]
            checked.text = (checked.text + note).strip()
            checked.unsupported = checked.unsupported and bool(info.text.strip())
        if info.stopped == "runaway":
            checked.unsupported = True  # repeated characters are no answer, whatever they cite
        if checked.unsupported and not stopped:
            # No evidence sentence holds what the model said (typically an answer from its own
            # memory to a question the articles do not cover): say so instead of showing it.
            log.info("unsupported answer replaced by a refusal: %r", checked.text)
            yield from self._refuse(question, language, started, timings, standalone, prompt,
                                    unsupported_text=checked.text)
            return
        timings["total"] = time.perf_counter() - started
        yield Answer(question, checked.text, language, checked.citations, refused=False,
                     unsupported=checked.unsupported, timings=timings, prompt=prompt,
                     standalone_question=standalone if standalone != question else "")

    # ------------------------------------------------------------------ steps

    def _messages(self, question: str, language: str,
                  evidence: list[Evidence]) -> tuple[list[dict[str, str]], int]:
        """The system prompt and the numbered evidence, cut to fit the context window."""
        system = load_prompt(self.settings.prompts_dir, "answer", language)
        template = load_prompt(self.settings.prompts_dir, "question", language)
        budget = self.settings.n_ctx - self.settings.max_answer_tokens - 64
        while True:
            lines = "\n".join(f"[{e.number}] {_prompt_text(e.text)}" for e in evidence)
            user = template.format(evidence=lines, question=question)
            used = self.llm.count_tokens(system) + self.llm.count_tokens(user)
            if used <= budget or len(evidence) <= 1:
                return [{"role": "system", "content": system},
                        {"role": "user", "content": user}], used
            evidence = evidence[:-1]

    def _standalone(self, question: str, history: Sequence[Turn], language: str,
                    timings: dict[str, float]) -> str:
        """Rewrite a follow-up ("and when did he arrive?") into a question that stands alone."""
        t = time.perf_counter()
        recent = list(history)[-2:]
        # Markers copied from earlier answers would end up in the search query.
        convo = "\n".join(f"Q: {q}\nA: {MARKER.sub('', a)[:300]}" for q, a in recent)
        messages = [{"role": "system",
                     "content": load_prompt(self.settings.prompts_dir, "condense", language)},
                    {"role": "user", "content": f"{convo}\nQ: {question}"}]
        rewritten = self.llm.complete(messages, max_tokens=60).strip().splitlines()
        timings["condense"] = time.perf_counter() - t
        candidate = MARKER.sub("", rewritten[0]).strip() if rewritten else ""
        candidate = candidate.removeprefix("Q:").strip()
        # The small model sometimes answers instead of rewriting, from its own memory, or
        # switches language: then the previous question supplies the missing subject.
        if (not candidate or detect_language(candidate) != language or len(candidate) > 300
                or not candidate.endswith(("?", "؟"))):
            return f"{recent[-1][0]} {question}"
        return candidate

    def _refuse(self, question: str, language: str, started: float,
                timings: dict[str, float], standalone: str, prompt: str = "",
                unsupported_text: str = "") -> Iterator[str | Answer]:
        text = load_prompt(self.settings.prompts_dir, "refusal", language)
        yield text
        timings["total"] = time.perf_counter() - started
        timings.setdefault("first_token", timings["total"])
        yield Answer(question, text, language, refused=True, unsupported=bool(unsupported_text),
                     timings=timings, prompt=prompt, unsupported_text=unsupported_text,
                     standalone_question=standalone if standalone != question else "")

    def status(self) -> dict[str, object]:
        store = IndexStore(self.settings.index_dir)
        info: dict[str, object] = {"llm": self.settings.llm, "llm_loaded": self.llm_loaded,
                                   "embedding_model": self.settings.embedding_model,
                                   "embedding_loaded": self._embedder is not None,
                                   "index_version": store.current_version()}
        if self._index is not None:
            info["documents"] = len(self._index.documents)
            info["chunks"] = self._index.size
        return info


def check_question(question: str, limit: int) -> None:
    """Raise QueryError with a message for the user if `question` cannot be asked."""
    if not question or not question.strip():
        raise QueryError("The question is empty. Type a question about the articles.")
    if len(question) > limit:
        raise QueryError(f"The question is too long ({len(question):,} characters; the limit "
                         f"is {limit:,}). Ask about one thing at a time.")


def _prompt_text(text: str) -> str:
    """Evidence as the model sees it: one line, without [n] markers of its own. A marker in an
    article ("[7]", "[1][2][3]", planted or copied from a wiki) would read as a source number,
    and a line break would make the rest of the sentence look like an unnumbered source.
    The citation's quote keeps the document's exact text; only the prompt changes."""
    return " ".join(MARKER.sub("", text).split())


def _render(messages: list[dict[str, str]]) -> str:
    return "\n\n".join(f"<{m['role']}>\n{m['content']}" for m in messages)


def _may_become_label(text: str) -> bool:
    start = text.lstrip().lower()
    return any(label.startswith(start) for label in _LABELS)


def _without_label(text: str) -> str:
    start = text.lstrip()
    for label in _LABELS:
        if start.lower().startswith(label):
            return start[len(label):].lstrip()
    return text


def _may_become_not_found(text: str) -> bool:
    return NOT_FOUND.startswith(text.strip().upper().replace(" ", "_"))

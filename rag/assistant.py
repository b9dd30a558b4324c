"""The assistant: question -> passages -> evidence -> prompt -> streamed answer -> checked citations.

Read `Assistant.stream` top to bottom to see every step a question goes through; each step is
a part of its own (rag.followup, rag.retriever, rag.evidence, rag.prompts, rag.generator,
rag.citations) that benchmarks and tests can call alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .chat_model import ChatModel
from .citations import CitationChecker
from .config import Settings
from .embedder import Embedder
from .errors import QueryError
from .evidence import EvidenceSelector
from .followup import FollowUpRewriter, Turn
from .generator import AnswerGenerator, Draft
from .ingest import Ingestor, load_index
from .language import SUPPORTED, detect_language
from .llm import load_chat_model
from .prompts import PromptBuilder, load_prompt
from .retriever import HybridRetriever
from .store import IndexData, IndexStore
from .types import Answer, IngestReport, Passage

log = logging.getLogger(__name__)

UNSUPPORTED_LANGUAGE = ("I can answer questions in Arabic and English only.\n"
                        "أستطيع الإجابة عن الأسئلة بالعربية والإنجليزية فقط.")
_STOP_NOTES = {"timeout": " …(stopped: the answer took too long)", "cancelled": " …(stopped)"}


class Assistant:
    """Loads the models once and answers, searches and ingests. Safe to share across threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 llm: ChatModel | None = None) -> None:
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

    # ------------------------------------------------------------------ the parts, loaded once

    @property
    def embedder(self) -> Embedder:
        with self._load_lock:
            if self._embedder is None:
                self._embedder = Embedder.from_settings(self.settings)
            return self._embedder

    @property
    def llm(self) -> ChatModel:
        with self._llm_lock:
            if self._llm is None:
                self._llm = load_chat_model(self.settings)
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
                self._retriever = HybridRetriever.from_settings(self._index, embedder,
                                                                self.settings)
            return self._retriever

    @property
    def index(self) -> IndexData:
        self.retriever()
        assert self._index is not None
        return self._index

    @property
    def selector(self) -> EvidenceSelector:
        # One for the assistant's life: it caches sentence vectors across questions.
        embedder = self.embedder
        with self._load_lock:
            if self._selector is None:
                self._selector = EvidenceSelector.from_settings(embedder, self.settings)
            return self._selector

    @property
    def checker(self) -> CitationChecker:
        return CitationChecker.from_settings(self.embedder, self.settings)

    @property
    def rewriter(self) -> FollowUpRewriter:
        return FollowUpRewriter(self.llm, self.settings.prompts_dir)

    @property
    def prompt_builder(self) -> PromptBuilder:
        return PromptBuilder.from_settings(self.llm, self.settings)

    @property
    def generator(self) -> AnswerGenerator:
        return AnswerGenerator.from_settings(self.llm, self.settings)

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
        retriever, _ = self.retriever(), self.llm  # loaded once; reported apart from the answer
        if time.perf_counter() - loading > 0.05:
            timings["model_loading"] = time.perf_counter() - loading
            started = time.perf_counter()

        standalone = question
        if history:
            t = time.perf_counter()
            standalone = self.rewriter.rewrite(question, history, language)
            timings["condense"] = time.perf_counter() - t

        t = time.perf_counter()
        passages = retriever.search(standalone, self.settings.top_k)
        evidence = self.selector.select(standalone, passages, self.settings.evidence_sentences)
        timings["retrieval"] = time.perf_counter() - t
        refuse = _Refusal(self.settings.prompts_dir, question, language, standalone, started,
                          timings)
        if not evidence:
            yield from refuse()
            return

        prompt = self.prompt_builder.build(standalone, language, evidence)
        timings["prompt_tokens"] = prompt.tokens
        draft = Draft()
        yield from self.generator.stream(prompt.messages, draft, cancel)
        info = draft.generation
        timings["first_token"] = (info.first_token_s or info.total_s) + timings["retrieval"] \
            + timings.get("condense", 0.0)
        timings["generation"] = info.total_s
        timings["answer_tokens"] = info.completion_tokens
        if draft.not_found:
            yield from refuse(prompt.render())
            return

        checked = self.checker.check(draft.text, prompt.evidence)
        if draft.interrupted:
            checked.text = (checked.text + _STOP_NOTES[info.stopped]).strip()
            checked.unsupported = checked.unsupported and bool(draft.text.strip())
        if draft.runaway:
            checked.unsupported = True  # repeated characters are no answer, whatever they cite
        if checked.unsupported and not draft.interrupted:
            # No evidence sentence holds what the model said (typically an answer from its own
            # memory to a question the articles do not cover): say so instead of showing it.
            log.info("unsupported answer replaced by a refusal: %r", checked.text)
            yield from refuse(prompt.render(), unsupported_text=checked.text)
            return
        timings["total"] = time.perf_counter() - started
        yield Answer(question, checked.text, language, checked.citations, refused=False,
                     unsupported=checked.unsupported, timings=timings, prompt=prompt.render(),
                     standalone_question=standalone if standalone != question else "")


class _Refusal:
    """The "the articles don't say" answer for one question, streamed then given whole."""

    def __init__(self, prompts_dir: Path, question: str, language: str, standalone: str,
                 started: float, timings: dict[str, float]) -> None:
        self.text = load_prompt(prompts_dir, "refusal", language)
        self.question, self.language, self.standalone = question, language, standalone
        self.started, self.timings = started, timings

    def __call__(self, prompt: str = "", unsupported_text: str = "") -> Iterator[str | Answer]:
        yield self.text
        self.timings["total"] = time.perf_counter() - self.started
        self.timings.setdefault("first_token", self.timings["total"])
        yield Answer(self.question, self.text, self.language, refused=True,
                     unsupported=bool(unsupported_text), timings=self.timings, prompt=prompt,
                     unsupported_text=unsupported_text,
                     standalone_question=self.standalone
                     if self.standalone != self.question else "")


def check_question(question: str, limit: int) -> None:
    """Raise QueryError with a message for the user if `question` cannot be asked."""
    if not question or not question.strip():
        raise QueryError("The question is empty. Type a question about the articles.")
    if len(question) > limit:
        raise QueryError(f"The question is too long ({len(question):,} characters; the limit "
                         f"is {limit:,}). Ask about one thing at a time.")

"""The assistant: question -> passages -> evidence -> prompt -> streamed answer -> checked citations.

Read `Assistant.stream` top to bottom to see every step a question goes through; each step is
a part of its own (rag.followup, rag.retriever, rag.evidence, rag.prompts, rag.generator,
rag.citations) that benchmarks and tests can call alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .chat_model import ChatModel
from .chronology import Chronology
from .citations import (
    MARKER,
    CheckedAnswer,
    CitationChecker,
    bracketed,
    citation,
    claims_with_markers,
)
from .config import Settings
from .crosslingual import CrossLingualAnswerer, Span
from .embedder import Embedder
from .errors import QueryError
from .evidence import EvidenceSelector
from .followup import FollowUpRewriter, Turn, needs_context
from .generator import AnswerGenerator, Draft
from .ingest import Ingestor, index_version, load_index
from .language import SUPPORTED, arabic_share, detect_language
from .llm import load_chat_model
from .milvus_store import MilvusIndex
from .prompts import PromptBuilder, load_prompt, prompt_text
from .relevance import relevance, relevance_floor, relevant_passages
from .rerank import sentence_rerank
from .retriever import HybridRetriever
from .store import IndexData, IndexStore
from .types import ANSWERED, NOT_FOUND, UNVERIFIED, Answer, Evidence, IngestReport, Passage
from .untrusted import defanged
from .verifier import ClaimVerifier

log = logging.getLogger(__name__)

UNSUPPORTED_LANGUAGE = ("I can answer questions in Arabic and English only.\n"
                        "أستطيع الإجابة عن الأسئلة بالعربية والإنجليزية فقط.")
MAX_K = 50  # passages a search may return
_STOP_NOTES = {"timeout": " …(stopped: the answer took too long)", "cancelled": " …(stopped)"}


class Assistant:
    """Loads the models once and answers, searches and ingests. Safe to share across threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 llm: ChatModel | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._llm = llm
        self._index: IndexData | MilvusIndex | None = None
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
        store = IndexStore(self.settings.index_dir)
        version = index_version(self.settings)
        with self._load_lock:
            if self._index is None:
                store.clean_leftovers()  # of writes killed before this process started
            if self._retriever is None or self._index is None or self._index.version != version:
                self._index = load_index(self.settings, embedder)
                self._retriever = HybridRetriever.from_settings(self._index, embedder,
                                                                self.settings)
            return self._retriever

    @property
    def index(self) -> IndexData | MilvusIndex:
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
        return CitationChecker(ClaimVerifier.from_file(self.embedder, self.settings.verifier_model))

    @property
    def chronology(self) -> Chronology:
        def ranked(query: str) -> list[Evidence]:
            return self.selector.ranked(query, self.retrieve(query, self.settings.top_k))
        return Chronology(ranked, self.settings.prompts_dir)

    @property
    def cross_lingual(self) -> CrossLingualAnswerer:
        return CrossLingualAnswerer.from_settings(self.llm, self.settings)

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

    def search(self, query: str, k: int | None = None,
               relevant_only: bool = False) -> list[Passage]:
        """The top-k passages; with `relevant_only`, only those over the relevance floor
        (rag/relevance.py), so an unrelated query gets []."""
        check_question(query, self.settings.max_question_chars)
        k = self.settings.top_k if k is None else check_k(k)
        passages = self.retrieve(query, k)
        return relevant_passages(query, passages, self.settings) if relevant_only else passages

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """The hybrid retriever's top-k, re-ranked by sentence for a query that is not
        Arabic (rag/rerank.py) among the top `sentence_depth`."""
        depth = max(k, self.settings.sentence_depth)
        passages = self.retriever().search(query, depth)
        return sentence_rerank(query, passages, self.selector, self.settings.sentence_weight)[:k]

    def ingest(self, paths: Sequence[str | Path], prune: bool = False, rebuild: bool = False,
               progress=None, allow_large: bool = False,
               keys: Mapping[Path, str] | None = None) -> IngestReport:
        return Ingestor(self.settings, self.embedder).ingest(
            paths, prune=prune, rebuild=rebuild, progress=progress, allow_large=allow_large,
            keys=keys)

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
            yield Answer(question, UNSUPPORTED_LANGUAGE, language, status=NOT_FOUND,
                         timings={"total": time.perf_counter() - started})
            return
        timings: dict[str, float] = {}
        loading = time.perf_counter()
        # Loaded once, before anything is generated (a broken model file fails here), and
        # reported apart from the answer's own time.
        _, _, checker = self.retriever(), self.llm, self.checker
        if time.perf_counter() - loading > 0.05:
            timings["model_loading"] = time.perf_counter() - loading
            started = time.perf_counter()

        standalone = question
        if history and needs_context(question, language):
            t = time.perf_counter()
            standalone = self.rewriter.rewrite(question, history, language)
            timings["condense"] = time.perf_counter() - t

        t = time.perf_counter()
        passages = self.retrieve(standalone, self.settings.top_k)
        evidence = self.selector.select(standalone, passages, self.settings.evidence_sentences)
        timings["retrieval"] = time.perf_counter() - t
        outcome = _Outcomes(self.settings, question, language, standalone, started, timings)
        if not evidence or relevance(passages) < relevance_floor(self.settings, language):
            yield from outcome.not_found()
            return

        # "Which came first: A or B?" is read from the two events' dated sentences, not asked
        # of the model (rag/chronology.py); when they don't tell, it goes the usual way.
        if (dated := self.chronology.answer(standalone, language)) is not None:
            timings["total"] = timings["first_token"] = time.perf_counter() - started
            yield dated.text
            yield Answer(question, dated.text, language, dated.citations, timings=timings,
                         standalone_question=standalone if standalone != question else "")
            return

        # An English question over Arabic evidence: the model first copies the Arabic words
        # that answer (rag/crosslingual.py); its English answer is then the next turn.
        crossing = language == "en" and _mostly_arabic(evidence)
        prompt = self.prompt_builder.build(standalone, language, evidence,
                                           "extract" if crossing else "answer")
        timings["prompt_tokens"] = prompt.tokens
        span = None
        if crossing:
            t = time.perf_counter()
            span, prompt = self.cross_lingual.extract(standalone, prompt)
            timings["extract"] = time.perf_counter() - t
        # The first draft streams (the reader sees it as provisional until the final Answer);
        # when it cannot be verified, sampled drafts are tried, and the first verified wins.
        draft = Draft()
        yield from self.generator.stream(prompt.messages, draft, cancel)
        info = draft.generation
        timings["first_token"] = (info.first_token_s or info.total_s) + timings["retrieval"] \
            + timings.get("condense", 0.0) + timings.get("extract", 0.0)
        timings["generation"] = info.total_s
        timings["answer_tokens"] = info.completion_tokens
        if draft.interrupted:
            checked = checker.check(draft.text, prompt.evidence, standalone)
            yield outcome.interrupted(draft, checked, prompt.render())
            return
        if crossing:  # checked against the copied Arabic words, not by the claim verifier
            checked = self._rendered(span, draft, prompt.evidence, standalone, timings)
        else:
            checked = self._verified(checker, draft, prompt.evidence, standalone, language)
        for n in range(1, self.settings.drafts):
            if checked is not None or (cancel is not None and cancel.is_set()):
                break
            draft = self.generator.draft(prompt.messages, self.settings.draft_temperature,
                                         seed=self.settings.seed + n)
            checked = self._verified(checker, draft, prompt.evidence, standalone, language)
            timings["drafts"] = n + 1
        if checked is None:
            yield from outcome.unverified(prompt.evidence, prompt.render(), draft.text,
                                          first=span.evidence if span else None)
            return
        timings["total"] = time.perf_counter() - started
        yield Answer(question, checked.text, language, checked.citations,
                     unsupported=checked.unsupported, timings=timings, prompt=prompt.render(),
                     standalone_question=standalone if standalone != question else "")

    def _rendered(self, span: Span | None, draft: Draft, evidence: list[Evidence],
                  question: str, timings: dict[str, float]) -> CheckedAnswer | None:
        """For an English question over Arabic evidence: the Arabic words that answer, said
        in English by the draft or by a rendering that agrees with them, with the words
        themselves ("Tuesday («الثلاثاء») [1]"); without such words, a draft that answers a
        when/how-many question with only quantities its cited sentence states."""
        said = "" if draft.no_answer else bracketed(draft.text)
        if span is None:
            cited = {n for _, numbers in claims_with_markers(said) for n in numbers}
            sentence = next((e for e in evidence if e.number in cited and
                             self.cross_lingual.fills_slot(said, e.text, question,
                                                           e.passage.document.date)), None)
            if sentence is None:
                return None
            text = f"{MARKER.sub('', said).strip()} [1]"
            return CheckedAnswer(text, [citation(sentence, 1, 1.0, True)], unsupported=False)
        english, renderings = self.cross_lingual.render(span, question, [said] if said else [])
        timings["renderings"] = renderings
        if english is None:
            return None
        text = f"{english.rstrip('.')} («{span.text}») [1]"
        return CheckedAnswer(text, [citation(span.evidence, 1, 1.0, True)], unsupported=False)

    @staticmethod
    def _verified(checker: CitationChecker, draft: Draft, evidence: list[Evidence],
                  question: str, language: str) -> CheckedAnswer | None:
        """The draft with its checked citations, or None if it says nothing the evidence
        supports (NOT_FOUND, repetition, or claims no cited sentence holds)."""
        if draft.no_answer:
            return None
        if detect_language(draft.text) != language and arabic_share(draft.text) is not None:
            return None  # an answer in another language than the question's (digits fit all)
        checked = checker.check(draft.text, evidence, question)
        if checked.unsupported:
            # Typically an answer from the model's own memory to a question the articles do
            # not cover, or a misreading of the evidence: it is not shown.
            log.info("unverified draft: %r", checked.text)
            return None
        return checked


class _Outcomes:
    """The answers that are not a verified draft, for one question: streamed, then whole."""

    def __init__(self, settings: Settings, question: str, language: str, standalone: str,
                 started: float, timings: dict[str, float]) -> None:
        self.settings = settings
        self.question, self.language, self.standalone = question, language, standalone
        self.started, self.timings = started, timings

    def _answer(self, text: str, status: str, **fields) -> Answer:
        self.timings["total"] = time.perf_counter() - self.started
        self.timings.setdefault("first_token", self.timings["total"])
        rewritten = self.standalone if self.standalone != self.question else ""
        return Answer(self.question, text, self.language, status=status, timings=self.timings,
                      standalone_question=rewritten, **fields)

    def not_found(self) -> Iterator[str | Answer]:
        text = load_prompt(self.settings.prompts_dir, "refusal", self.language)
        yield text
        yield self._answer(text, NOT_FOUND)

    def unverified(self, evidence: list[Evidence], prompt: str, draft: str,
                   first: Evidence | None = None) -> Iterator[str | Answer]:
        """Says plainly that no answer could be verified and quotes the most relevant
        sentences, numbered 1..n: nothing the model wrote. `first`: the sentence holding the
        words the model copied as the answer (rag/crosslingual.py) leads."""
        shown = sorted(evidence, key=lambda e: (e is not first, -e.score))
        shown = shown[:self.settings.unverified_passages]
        citations = [citation(e, number=i, support=e.score, supported=False)
                     for i, e in enumerate(shown, start=1)]
        lines = [load_prompt(self.settings.prompts_dir, "unverified", self.language)]
        # One line each, without [n] markers of the article's own (they would read as ours).
        lines += [f"[{c.number}] «{defanged(prompt_text(c.quote))}»" for c in citations]
        text = "\n".join(lines)
        yield text
        yield self._answer(text, UNVERIFIED, citations=citations, prompt=prompt,
                           unsupported=bool(draft.strip()), unsupported_text=defanged(draft))

    def interrupted(self, draft: Draft, checked: CheckedAnswer, prompt: str) -> Answer:
        """Stopped by the time limit or the user: what was written, marked as stopped."""
        text = defanged(checked.text + _STOP_NOTES[draft.generation.stopped]).strip()
        verified = bool(checked.citations) and not checked.unsupported
        return self._answer(text, ANSWERED if verified else UNVERIFIED,
                            citations=checked.citations, prompt=prompt,
                            unsupported=not verified and bool(draft.text.strip()))


def _mostly_arabic(evidence: list[Evidence]) -> bool:
    shares = [arabic_share(e.text) or 0.0 for e in evidence]
    return sum(shares) > 0.5 * len(shares)


def check_question(question: str, limit: int) -> None:
    """Raise QueryError with a message for the user if `question` cannot be asked."""
    if not question or not question.strip():
        raise QueryError("The question is empty. Type a question about the articles.")
    if len(question) > limit:
        raise QueryError(f"The question is too long ({len(question):,} characters; the limit "
                         f"is {limit:,}). Ask about one thing at a time.")
    if any("\ud800" <= c <= "\udfff" for c in question):
        raise QueryError("The question contains a broken character (half of a UTF-16 pair) "
                         "that is not text. Type or paste the question again.")


def check_k(k: object) -> int:
    """How many passages a search returns: a whole number from 1 to MAX_K ("5" and 5.0 too)."""
    if isinstance(k, float) and k.is_integer():
        k = int(k)
    try:
        value = 0 if isinstance(k, bool) else int(str(k).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_K:
        raise QueryError(f"k (how many passages) must be a whole number from 1 to {MAX_K}, "
                         f"got {str(k)[:20]!r}.")
    return value

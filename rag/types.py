"""The plain data carried from ingestion to the citation shown in the UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

Progress = Callable[[str, int, int], None]  # (stage, done, total) of long work


@dataclass
class Document:
    """One article after cleaning. A scraped page may yield several (host article + teasers)."""

    doc_id: str  # stable: "<file name>#<n>:<content hash prefix>"
    source_file: str  # file name the article came from, as shown
    title: str
    text: str  # the cleaned text; chunk offsets point into it
    date: str = ""  # ISO date (YYYY-MM-DD) where the page gives one
    source: str = ""  # outlet / agency, e.g. "رويترز"
    language: str = "ar"
    content_hash: str = ""  # sha256 of the raw file bytes
    kind: str = "article"  # "article" or "teaser" (a "read also" item split off a page)
    # Where it came from: the file's absolute path (an upload's is in the uploads folder).
    # This, not the bare name, is the document's identity: dirA/x.txt and dirB/x.txt are two.
    # Empty in indexes written before paths were kept; those are matched by name once.
    source_path: str = ""

    @property
    def key(self) -> str:
        return self.source_path or self.source_file

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Chunk:
    """A span of a document's cleaned text: `document.text[start:end] == text`."""

    chunk_id: int  # row in the vector index
    doc_id: str
    text: str
    start: int
    end: int
    paragraph: int  # index of the paragraph the chunk starts in

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Passage:
    """A retrieved chunk with its document's metadata and the score from each retriever."""

    chunk: Chunk
    document: Document
    score: float  # fused score (higher is better)
    dense_score: float | None = None  # cosine similarity, if the dense retriever found it
    lexical_score: float | None = None  # BM25 score, if the lexical retriever found it
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": self.score,
            "dense_score": self.dense_score,
            "lexical_score": self.lexical_score,
            "doc_id": self.document.doc_id,
            "source_file": self.document.source_file,
            "title": self.document.title,
            "date": self.document.date,
            "source": self.document.source,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "chunk_id": self.chunk.chunk_id,
        }


@dataclass
class Evidence:
    """A sentence chosen for the answering prompt; offsets are into the document's text."""

    number: int  # the [n] the model sees and cites
    text: str
    start: int
    end: int
    passage: Passage
    score: float = 0.0


@dataclass
class Citation:
    number: int
    doc_id: str
    title: str
    date: str
    source: str
    quote: str  # the cited sentence
    start: int  # character span of the quote in the document's cleaned text
    end: int
    support: float  # how well the quote supports the claim that cites it, 0..1
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ANSWERED = "answered"  # a verified answer with its citations
UNVERIFIED = "unverified"  # relevant passages, but no draft could be verified: they are shown
NOT_FOUND = "not_found"  # nothing relevant enough in the articles
STATUSES = (ANSWERED, UNVERIFIED, NOT_FOUND)


@dataclass
class Answer:
    question: str
    text: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    status: str = ANSWERED  # one of STATUSES
    unsupported: bool = False  # the model answered but no citation holds up
    timings: dict[str, float] = field(default_factory=dict)  # seconds: retrieval, first_token, total
    prompt: str = ""  # exactly what was sent to the model
    standalone_question: str = ""  # the follow-up rewritten for retrieval, if it was rewritten
    unsupported_text: str = ""  # what the model said when no evidence supported it (refused)

    @property
    def refused(self) -> bool:
        """No answer of the model's is shown (the question is `unverified` or `not_found`)."""
        return self.status != ANSWERED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["citations"] = [c.to_dict() for c in self.citations]
        d["refused"] = self.refused
        return d


@dataclass
class FileOutcome:
    path: str
    status: str  # "added", "updated", "unchanged", "rejected", "removed"
    reason: str = ""
    documents: int = 0
    chunks: int = 0
    key: str = ""  # the document's identity (see Document.source_path) when added or updated
    renamed_from: str = ""  # an upload kept under a new name beside one of the same name


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # about the whole run, shown once

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("added", "updated"))

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed",
                                                  "rejected")]
        return f"{', '.join(parts)}; {self.chunks} new chunks in {self.seconds:.1f}s"

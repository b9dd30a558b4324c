"""Split a cleaned document into token-bounded chunks with exact character offsets."""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .sentences import split_sentences
from .types import Chunk, Document

__all__ = ["Chunker", "split_sentences"]

logger = logging.getLogger(__name__)

# Coarse to fine; the splitter only descends to a finer separator for a piece that is still
# too long. Sentence ends need following whitespace so that "3.5" and "U.S" stay whole, and
# commas come last: a clause cut at "،" reads worse than a whole sentence.
_SEPARATORS = [
    r"\n\n",
    r"\n",
    r"(?:(?<=[.!?؟؛;])|(?<=[.!?؟؛;][\"'”’»)]))\s+",
    r"(?<=[؟؛])",  # Arabic marks end a sentence even when the next word is glued on
    r"(?<=[،,])\s*",
    r" ",
    "",
]
_WORD_START = re.compile(r"(?<!\S)\S")


class Chunker:
    """Packs paragraphs, then sentences, then words into chunks of at most `chunk_tokens`.

    Sizes are measured with `count_tokens`, the embedding model's tokenizer, so no chunk is
    silently truncated by the model. A chunk that starts inside a paragraph repeats up to
    `overlap_tokens` of the words before it, so a fact cut at a chunk boundary is still
    whole in one of the two chunks.
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        chunk_tokens: int = 160,
        overlap_tokens: int = 24,
    ) -> None:
        if chunk_tokens <= 0 or not 0 <= overlap_tokens < chunk_tokens:
            raise ValueError(
                f"need 0 <= overlap_tokens < chunk_tokens, got {overlap_tokens}, {chunk_tokens}"
            )
        self.count_tokens = count_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        # Overlap is added afterwards, so leave room for it. The splitter's own overlap works
        # in whole sentences, which are mostly longer than the overlap and so never repeat.
        self._splitter = RecursiveCharacterTextSplitter(
            separators=_SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=chunk_tokens - overlap_tokens,
            chunk_overlap=0,
            length_function=count_tokens,
            strip_whitespace=True,
        )

    def split(self, document: Document, first_chunk_id: int) -> list[Chunk]:
        text = document.text
        paragraph_starts = [0] + [m.end() for m in re.finditer("\n\n", text)]
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self._splitter.split_text(text):
            # Located by search rather than the splitter's add_start_index, which mixes
            # characters and tokens when length_function is a tokenizer.
            start = text.find(piece, cursor)
            if start < 0:
                raise RuntimeError(f"chunk not found in {document.doc_id} after offset {cursor}")
            end = start + len(piece)
            cursor = end
            paragraph = bisect.bisect_right(paragraph_starts, start) - 1
            if chunks:
                # Never reach back to the previous chunk's start: that chunk would be redundant.
                floor = max(paragraph_starts[paragraph], chunks[-1].start + 1)
                start = self._with_overlap(text, floor, start, end)
            chunks.append(
                Chunk(
                    chunk_id=first_chunk_id + len(chunks),
                    doc_id=document.doc_id,
                    text=text[start:end],
                    start=start,
                    end=end,
                    paragraph=paragraph,
                )
            )
        return chunks

    def _with_overlap(self, text: str, floor: int, start: int, end: int) -> int:
        """The earliest word start in [floor, start) from which the chunk still fits."""
        if self.overlap_tokens == 0 or floor >= start or not text[floor:start].strip():
            return start
        candidates = [m.start() for m in _WORD_START.finditer(text, floor, start)]
        # Words are rarely shorter than a token; the slack covers counters that say otherwise.
        candidates = candidates[-4 * self.overlap_tokens :]

        def fits(i: int) -> bool:
            at = candidates[i]
            return (self.count_tokens(text[at:start]) <= self.overlap_tokens
                    and self.count_tokens(text[at:end]) <= self.chunk_tokens)

        # Token counts grow as the start moves left, so the fitting candidates are a suffix.
        lo, hi = 0, len(candidates)
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(mid):
                hi = mid
            else:
                lo = mid + 1
        return candidates[lo] if lo < len(candidates) else start

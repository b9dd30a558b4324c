"""Whether anything retrieved is relevant: one rule for answering ("not found") and search.

The signal is a passage's dense cosine with the query, against a floor calibrated per query
language on questions with and without an answer (benchmarks/relevance_floor.py; the floors
are `Settings.relevance_floor_ar/_en`). Search also shows a passage under the floor when it
holds every word of the query (compared as `claims.content_words` compares them): a name typed
as a keyword is relevant wherever it occurs, though a bare keyword scores a lower cosine than a
question. Any one word would not do: "كأس العالم" would then find every passage about the world.
"""

from __future__ import annotations

from .claims import content_words
from .config import Settings
from .language import detect_language
from .types import Passage


def relevance_floor(settings: Settings, language: str) -> float:
    """The calibrated floor for a query in `language` (English's for any non-Arabic one)."""
    return settings.relevance_floor_ar if language == "ar" else settings.relevance_floor_en


def relevance(passages: list[Passage]) -> float:
    """The best dense cosine among `passages` (0 if none)."""
    return max((p.dense_score or 0.0 for p in passages), default=0.0)


def relevant_passages(query: str, passages: list[Passage], settings: Settings) -> list[Passage]:
    """The passages worth showing for `query`, re-ranked 1..n; [] means nothing relevant."""
    floor = relevance_floor(settings, detect_language(query))
    words = content_words(query)
    kept = [p for p in passages if (p.dense_score or 0.0) >= floor
            or (words and words <= content_words(p.chunk.text))]
    for rank, passage in enumerate(kept, start=1):
        passage.rank = rank
    return kept

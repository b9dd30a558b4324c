"""Generating a draft answer: the model's stream, with what must never reach the reader held
back (the refusal token, a leading label) and runaway repetition stopped."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from .chat_model import ChatModel, Generation
from .citations import claims_with_markers
from .config import Settings

NOT_FOUND = "NOT_FOUND"  # what the answering prompt tells the model to say when it can't answer
# The model writes the token as "Not_FOUND" or "NOT FOUND" too.
_SAYS_NOT_FOUND = re.compile(r"NOT[\s_]?FOUND", re.IGNORECASE)
# The small models sometimes run away ("1000000000…"): 16 identical characters in a row.
_RUNAWAY = re.compile(r"(\S)\1{15,}")
# The model sometimes starts with a label ("الإجابة: الثلاثاء"), which is not part of the answer.
_LABELS = ("answer:", "الإجابة:", "الجواب:")
_WORD_LOOP = re.compile(r"(\b\w+\b)(?:\W+\1\b){3,}")


@dataclass
class Draft:
    """One generated answer, as the model wrote it, with how the generation ended."""

    generation: Generation = field(default_factory=Generation)

    @property
    def interrupted(self) -> bool:
        """Stopped by the time limit or by the user, not by the model."""
        return self.generation.stopped in ("timeout", "cancelled")

    @property
    def runaway(self) -> bool:
        return self.generation.stopped == "runaway"

    @property
    def not_found(self) -> bool:
        """The model said the evidence does not answer the question (or said nothing)."""
        text = self.generation.text
        return bool(_SAYS_NOT_FOUND.search(text)) or (not text.strip() and not self.interrupted)

    @property
    def repetitive(self) -> bool:
        """The same sentence twice, or one word four times running: a loop, not an answer."""
        claims = [" ".join(claim.split()) for claim, _ in claims_with_markers(self.text)]
        return len(claims) != len(set(claims)) or bool(_WORD_LOOP.search(self.text))

    @property
    def no_answer(self) -> bool:
        """Nothing to check: the refusal token, a runaway or a loop."""
        return self.not_found or self.runaway or self.repetitive

    @property
    def text(self) -> str:
        """The answer without a leading label; empty if it was stopped before any text showed
        (e.g. a timeout while the prompt was read: that is not "the articles don't say")."""
        text = self.generation.text
        if self.interrupted and _may_become_not_found(text):
            return ""
        return _without_label(text)


class AnswerGenerator:
    """Streams the text of a draft as the reader may see it, filling in the `Draft`."""

    def __init__(self, model: ChatModel, *, max_tokens: int, temperature: float,
                 timeout_s: float) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, model: ChatModel, settings: Settings) -> AnswerGenerator:
        return cls(model, max_tokens=settings.max_answer_tokens,
                   temperature=settings.temperature, timeout_s=settings.generation_timeout_s)

    def stream(self, messages: list[dict[str, str]], draft: Draft,
               cancel: threading.Event | None = None, temperature: float | None = None,
               seed: int | None = None) -> Iterator[str]:
        """`temperature` and `seed` override the settings' for a sampled draft."""
        info = draft.generation
        shown = ""
        temperature = self.temperature if temperature is None else temperature
        for _ in self.model.stream(messages, self.max_tokens, temperature, self.timeout_s,
                                   cancel, info, seed):
            if _RUNAWAY.search(info.text):
                info.stopped = "runaway"
                break
            # Hold back text that may still turn out to be the refusal token or a label.
            if (_may_become_not_found(info.text) or _SAYS_NOT_FOUND.search(info.text)
                    or _may_become_label(info.text)):
                continue
            text = _without_label(info.text)
            new, shown = text[len(shown):], text
            yield new

    def draft(self, messages: list[dict[str, str]], temperature: float | None = None,
              seed: int | None = None) -> Draft:
        """A whole draft, not streamed."""
        draft = Draft()
        for _ in self.stream(messages, draft, temperature=temperature, seed=seed):
            pass
        return draft


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

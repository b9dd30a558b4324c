"""Follow-up questions ("and when did he arrive?") rewritten to stand alone for retrieval."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .chat_model import ChatModel
from .citations import MARKER
from .language import detect_language
from .prompts import load_prompt

Turn = tuple[str, str]  # (question, answer)


class FollowUpRewriter:
    """Asks the model to rewrite the last question of a conversation as a standalone one."""

    def __init__(self, model: ChatModel, prompts_dir: Path, max_tokens: int = 60) -> None:
        self.model = model
        self.prompts_dir = prompts_dir
        self.max_tokens = max_tokens  # a question, not an answer

    def rewrite(self, question: str, history: Sequence[Turn], language: str) -> str:
        recent = list(history)[-2:]
        # Markers copied from earlier answers would end up in the search query.
        convo = "\n".join(f"Q: {q}\nA: {MARKER.sub('', a)[:300]}" for q, a in recent)
        messages = [{"role": "system",
                     "content": load_prompt(self.prompts_dir, "condense", language)},
                    {"role": "user", "content": f"{convo}\nQ: {question}"}]
        lines = self.model.complete(messages, max_tokens=self.max_tokens).strip().splitlines()
        candidate = MARKER.sub("", lines[0]).strip() if lines else ""
        candidate = candidate.removeprefix("Q:").strip()
        # The small model sometimes answers instead of rewriting, from its own memory, or
        # switches language: then the previous question supplies the missing subject.
        if (not candidate or detect_language(candidate) != language or len(candidate) > 300
                or not candidate.endswith(("?", "؟"))):
            return f"{recent[-1][0]} {question}"
        return candidate

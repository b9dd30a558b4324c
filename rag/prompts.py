"""Prompts: templates as files in prompts/ (<purpose>.<lang>.txt), and the answering prompt
built from them with the numbered evidence."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .chat_model import ChatModel
from .citations import MARKER
from .config import Settings
from .errors import ConfigError
from .types import Evidence


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def load_prompt(prompts_dir: Path, purpose: str, language: str) -> str:
    """The template for `purpose` ("answer", "question", "refusal", "condense") in `language`,
    falling back to English for a language that has no file of its own."""
    for lang in (language, "en"):
        path = Path(prompts_dir) / f"{purpose}.{lang}.txt"
        if path.is_file():
            return _read(path)
    raise ConfigError(f"No prompt template {purpose}.{language}.txt in {prompts_dir}.")


@dataclass
class Prompt:
    """The messages sent to the answer model, and the evidence that fit in them."""

    messages: list[dict[str, str]]
    tokens: int
    evidence: list[Evidence]

    def render(self) -> str:
        """One readable text of the messages, as reported in `Answer.prompt`."""
        return "\n\n".join(f"<{m['role']}>\n{m['content']}" for m in self.messages)


class PromptBuilder:
    """The system prompt and the numbered evidence for a question, within the context window:
    the last (lowest ranked) evidence sentences are dropped until the prompt fits."""

    def __init__(self, model: ChatModel, prompts_dir: Path, budget_tokens: int) -> None:
        self.model = model  # counts the tokens
        self.prompts_dir = prompts_dir
        self.budget_tokens = budget_tokens

    @classmethod
    def from_settings(cls, model: ChatModel, settings: Settings) -> PromptBuilder:
        # 64 tokens for the chat template's own markup around the two messages.
        return cls(model, settings.prompts_dir,
                   settings.n_ctx - settings.max_answer_tokens - 64)

    def build(self, question: str, language: str, evidence: list[Evidence],
              purpose: str = "answer") -> Prompt:
        """`purpose` names the system prompt: "answer", or "extract" (rag.crosslingual)."""
        system = load_prompt(self.prompts_dir, purpose, language)
        template = load_prompt(self.prompts_dir, "question", language)
        while True:
            lines = "\n".join(f"[{e.number}] {prompt_text(e.text)}" for e in evidence)
            user = template.format(evidence=lines, question=question)
            used = self.model.count_tokens(system) + self.model.count_tokens(user)
            if used <= self.budget_tokens or len(evidence) <= 1:
                return Prompt([{"role": "system", "content": system},
                               {"role": "user", "content": user}], used, evidence)
            evidence = evidence[:-1]


def prompt_text(text: str) -> str:
    """Evidence as the model sees it: one line, without [n] markers of its own. A marker in an
    article ("[7]", "[1][2][3]", planted or copied from a wiki) would read as a source number,
    and a line break would make the rest of the sentence look like an unnumbered source.
    The citation's quote keeps the document's exact text; only the prompt changes."""
    return " ".join(MARKER.sub("", text).split())

"""The local LLM over the real 0.5B model: greedy answers do not depend on the prompt cache,
and with Arabic and English prompts alternating, each system prompt is read only once."""

from __future__ import annotations

import pytest

from rag import models
from rag.config import Settings
from rag.errors import ModelError
from rag.llm import LocalLLM
from rag.prompts import load_prompt

PROMPTS = Settings().prompts_dir
QUESTIONS = {"en": "Sources:\n[1] Kim left Pyongyang by train on Sunday.\n\n"
                   "Question: When did Kim leave?",
             "ar": "المصادر:\n[1] غادر كيم بيونغ يانغ بالقطار يوم الأحد.\n\nالسؤال: متى غادر كيم؟"}


def messages(language: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": load_prompt(PROMPTS, "answer", language)},
            {"role": "user", "content": QUESTIONS[language]}]


def load(prompt_cache_mb: int) -> LocalLLM:
    settings = Settings.load(llm=models.SMALL_LLM, prompt_cache_mb=prompt_cache_mb)
    try:
        return LocalLLM.from_settings(settings)
    except ModelError as e:
        pytest.skip(f"{e} (run: rag models fetch)")


def evaluated_tokens(llm: LocalLLM, language: str) -> tuple[str, int]:
    """The answer, and how many prompt and answer tokens llama.cpp had to evaluate for it."""
    counted = []
    original = llm.llama.eval
    llm.llama.eval = lambda tokens: (counted.append(len(tokens)), original(tokens))[1]
    try:
        return llm.complete(messages(language), max_tokens=16), sum(counted)
    finally:
        llm.llama.eval = original


def test_alternating_languages_reuse_each_system_prompt_and_answer_the_same():
    cached, plain = load(prompt_cache_mb=64), load(prompt_cache_mb=0)
    runs = {}
    for name, llm in (("cached", cached), ("plain", plain)):
        runs[name] = [evaluated_tokens(llm, lang) for lang in ("en", "ar", "en", "ar")]
    assert [text for text, _ in runs["cached"]] == [text for text, _ in runs["plain"]]
    system_tokens = cached.count_tokens(load_prompt(PROMPTS, "answer", "en"))
    for i in (2, 3):  # the second question in each language
        assert runs["cached"][i][1] < runs["plain"][i][1] - system_tokens // 2, runs

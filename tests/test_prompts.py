"""Prompt templates: one file per purpose and language in prompts/, loaded by name."""

from __future__ import annotations

import string

import pytest

from rag.config import Settings
from rag.errors import ConfigError
from rag.language import SUPPORTED
from rag.prompts import load_prompt

PROMPTS = Settings().prompts_dir
PURPOSES = ("answer", "question", "refusal", "condense")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_purpose_has_a_file_of_its_own_in_both_languages(purpose, language):
    path = PROMPTS / f"{purpose}.{language}.txt"
    assert path.is_file(), path
    text = load_prompt(PROMPTS, purpose, language)
    assert text and text == path.read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("purpose", PURPOSES)
def test_arabic_and_english_prompts_are_written_in_their_language(purpose):
    arabic = load_prompt(PROMPTS, purpose, "ar")
    english = load_prompt(PROMPTS, purpose, "en")
    assert arabic != english
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic)
    assert not any("\u0600" <= ch <= "\u06ff" for ch in english)


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_question_template_takes_the_evidence_and_the_question(language):
    template = load_prompt(PROMPTS, "question", language)
    assert placeholders(template) == {"evidence", "question"}
    filled = template.format(evidence="[1] EVIDENCE-LINE", question="QUESTION-TEXT")
    assert filled.index("[1] EVIDENCE-LINE") < filled.index("QUESTION-TEXT")


@pytest.mark.parametrize("purpose", ["answer", "refusal", "condense"])
@pytest.mark.parametrize("language", SUPPORTED)
def test_prompts_used_as_they_are_have_no_placeholders(purpose, language):
    # These go to the model or the user verbatim; a stray {name} would be shown as is.
    assert placeholders(load_prompt(PROMPTS, purpose, language)) == set()


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_answer_prompt_names_the_refusal_token(language):
    from rag.generator import NOT_FOUND

    assert NOT_FOUND in load_prompt(PROMPTS, "answer", language)


def test_a_language_without_files_falls_back_to_english():
    assert load_prompt(PROMPTS, "refusal", "fr") == load_prompt(PROMPTS, "refusal", "en")


def test_an_unknown_purpose_is_a_config_error_that_names_the_file_and_folder():
    with pytest.raises(ConfigError) as excinfo:
        load_prompt(PROMPTS, "summary", "ar")
    message = str(excinfo.value)
    assert "summary.ar.txt" in message and str(PROMPTS) in message


def test_a_prompts_folder_without_the_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="No prompt template answer.en.txt"):
        load_prompt(tmp_path, "answer", "en")


def test_a_prompts_folder_of_ones_own_is_used(tmp_path):
    (tmp_path / "refusal.ar.txt").write_text("  لا أعرف.\n", encoding="utf-8")
    (tmp_path / "refusal.en.txt").write_text("I don't know.\n", encoding="utf-8")
    assert load_prompt(tmp_path, "refusal", "ar") == "لا أعرف."
    assert load_prompt(str(tmp_path), "refusal", "de") == "I don't know."

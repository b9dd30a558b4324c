"""The assistant on bad input and at the edges: empty questions, other languages, a missing or
emptied index, a model that fails to load, questions the articles do not answer.

Over the real seed index and embedder. Where no answer is generated the settings name a model
file that does not exist, so that loading the model by mistake would fail the test. The
stream's own logic (held-back refusal token, text replaced by a refusal) is driven by a
scripted stand-in for the model; two tests generate with the real 0.5B model.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from fakes import ScriptedLLM

from rag import models
from rag.assistant import UNSUPPORTED_LANGUAGE, Assistant
from rag.citations import MARKER
from rag.config import Settings
from rag.errors import IndexStoreError, ModelError, QueryError
from rag.generator import NOT_FOUND
from rag.language import detect_language
from rag.prompts import load_prompt, prompt_text
from rag.types import Answer

PROMPTS = Settings().prompts_dir
REFUSAL = {lang: load_prompt(PROMPTS, "refusal", lang) for lang in ("ar", "en")}
UNVERIFIED = {lang: load_prompt(PROMPTS, "unverified", lang) for lang in ("ar", "en")}
# Answered by the 0.5B model from the seed articles, with a supported citation.
ANSWERED_AR = "في أي ذكرى لنهاية الحرب الكورية زار شويغو كوريا الشمالية؟"
ANSWERED_EN = "What did Shoigu try to persuade Pyongyang to sell to Russia?"
ABSENT_EN = "What is the capital of Peru?"  # nothing relevant in the seeds: "not found"
UNANSWERED_EN = "Who is the president of South Korea?"  # relevant passages, no answer


def first_evidence(messages: list[dict[str, str]]) -> str:
    """The sentence numbered [1] in the prompt ("" in a prompt without sources)."""
    found = (re.search(r"^\[1\] (.+)$", m["content"], re.MULTILINE) for m in messages)
    return next((m.group(1) for m in found if m), "")


def settings_for(index_dir, tmp_path, **overrides) -> Settings:
    """Settings over `index_dir` whose model file does not exist: loading it raises."""
    return Settings.load(index_dir=index_dir, llm=str(tmp_path / "no-model.gguf"), **overrides)


@pytest.fixture
def no_model(seed_settings, embedder, tmp_path) -> Assistant:
    """The seed index and the real embedder; asking the model for anything fails."""
    return Assistant(settings_for(seed_settings.index_dir, tmp_path), embedder=embedder)


def split(items: list) -> tuple[str, Answer]:
    """The streamed text and the one final Answer, checking the stream's shape on the way."""
    assert items and isinstance(items[-1], Answer), items
    assert all(isinstance(i, str) for i in items[:-1]), items
    return "".join(items[:-1]), items[-1]


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\u00a0"])
def test_an_empty_question_is_a_query_error_that_says_what_to_do(no_model, question):
    for call in (lambda: no_model.ask(question), lambda: list(no_model.stream(question)),
                 lambda: no_model.search(question)):
        with pytest.raises(QueryError) as excinfo:
            call()
        assert str(excinfo.value) == ("The question is empty. Type a question about the "
                                      "articles.")
    assert not no_model.llm_loaded


@pytest.mark.parametrize(("question", "language"), [
    ("Quelle est la date de la visite de Kim en Russie ?", "fr"),
    ("金正恩什么时候访问俄罗斯？", "cjk"),
])
def test_a_question_in_another_language_gets_the_arabic_and_english_only_reply(
        embedder, tmp_path, question, language):
    # No index and no model either: the reply needs neither.
    assistant = Assistant(settings_for(tmp_path / "no-index", tmp_path), embedder=embedder)
    streamed, answer = split(list(assistant.stream(question)))
    assert streamed == answer.text == UNSUPPORTED_LANGUAGE
    assert "Arabic and English only" in answer.text
    assert "بالعربية والإنجليزية فقط" in answer.text
    assert answer.refused and answer.language == language and answer.citations == []
    assert assistant.ask(question).text == UNSUPPORTED_LANGUAGE
    assert not assistant.llm_loaded


@pytest.mark.parametrize("index", ["empty-folder", "absent-folder"])
def test_without_an_index_the_error_says_how_to_build_one(embedder, tmp_path, index):
    folder = tmp_path / index
    if index == "empty-folder":
        folder.mkdir()
    assistant = Assistant(settings_for(folder, tmp_path), embedder=embedder)
    # The index is checked before the model is loaded: the user sees the problem to fix.
    for call in (lambda: assistant.ask("When did Kim arrive in Vladivostok?"),
                 lambda: assistant.search("كيم جونغ أون")):
        with pytest.raises(IndexStoreError) as excinfo:
            call()
        assert str(excinfo.value) == (f"No index in {folder}. Build one with: "
                                      f"rag ingest seeds/")
    assert not assistant.llm_loaded


def test_an_index_whose_articles_were_all_removed_refuses_without_asking_the_model(
        seed_settings, embedder, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, index, ignore=shutil.ignore_patterns(".lock"))
    assistant = Assistant(settings_for(index, tmp_path), embedder=embedder, llm=ScriptedLLM())
    report = assistant.remove(sorted(assistant.index.by_file))
    assert report.count("removed") == 5 and report.count("rejected") == 0, report.files
    assert assistant.index.size == 0
    assert assistant.search("كيم جونغ أون") == []
    for question, language in ((ANSWERED_AR, "ar"), (ANSWERED_EN, "en")):
        streamed, answer = split(list(assistant.stream(question)))
        assert streamed == answer.text == REFUSAL[language]
        assert answer.refused and answer.language == language and answer.prompt == ""


def test_a_model_file_that_does_not_load_is_a_model_error_with_what_to_do(
        seed_settings, embedder, tmp_path):
    garbage = tmp_path / "model.gguf"
    garbage.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00\xff" * 4096)
    assistant = Assistant(Settings.load(index_dir=seed_settings.index_dir, llm=str(garbage)),
                          embedder=embedder)
    with pytest.raises(ModelError) as excinfo:
        assistant.ask(ANSWERED_EN)
    message = str(excinfo.value)
    print(f"\n{message}")
    assert message.startswith(f"Cannot load the language model {garbage}")
    assert "rag models" in message
    assert "Traceback" not in message and "\n" not in message
    assert not assistant.llm_loaded
    # Search needs no model and still works.
    assert assistant.search("Shoigu Pyongyang", k=2)


def test_a_model_that_is_not_there_names_the_file_and_the_choices(seed_settings, embedder,
                                                                    tmp_path):
    assistant = Assistant(settings_for(seed_settings.index_dir, tmp_path), embedder=embedder)
    with pytest.raises(ModelError) as excinfo:
        assistant.ask(ANSWERED_EN)
    message = str(excinfo.value)
    assert f"LLM file {tmp_path / 'no-model.gguf'} does not exist" in message
    assert "RAG_LLM" in message and models.SMALL_LLM in message


# ---------------------------------------------------------------------------------- the stream


def test_a_supported_answer_is_streamed_as_it_is_then_given_with_its_citation(
        seed_settings, embedder):
    llm = ScriptedLLM(lambda messages: f"{first_evidence(messages)} [1]")
    assistant = Assistant(seed_settings, embedder=embedder, llm=llm)
    streamed, answer = split(list(assistant.stream(ANSWERED_AR)))
    assert streamed == answer.text == f"{first_evidence(llm.messages)} [1]"
    assert not answer.refused and not answer.unsupported
    assert [(c.number, c.supported) for c in answer.citations] == [(1, True)]


def test_the_final_text_is_the_checked_one_when_citations_were_repaired(seed_settings,
                                                                         embedder):
    # A marker before the full stop, and one pointing to no evidence: the final Answer moves
    # the first after the stop and drops the second; the streamed text was the model's own.
    llm = ScriptedLLM(lambda messages: f"{first_evidence(messages).rstrip('.')} [1, 99].")
    assistant = Assistant(seed_settings, embedder=embedder, llm=llm)
    streamed, answer = split(list(assistant.stream(ANSWERED_AR)))
    assert "[1, 99]" in streamed
    assert answer.text == first_evidence(llm.messages).rstrip(".") + ". [1]"
    assert [c.number for c in answer.citations] == [1]
    assert " ".join(MARKER.sub("", streamed).split()) == " ".join(MARKER.sub("", answer.text)
                                                                  .split())


@pytest.mark.parametrize("label", ["الإجابة: ", "Answer: ", " answer:"])
def test_a_label_before_the_answer_is_neither_streamed_nor_kept(seed_settings, embedder, label):
    llm = ScriptedLLM(lambda messages: f"{label}{first_evidence(messages)} [1]", piece=2)
    assistant = Assistant(seed_settings, embedder=embedder, llm=llm)
    streamed, answer = split(list(assistant.stream(ANSWERED_AR)))
    assert streamed == answer.text == f"{first_evidence(llm.messages)} [1]"
    assert not answer.refused


def check_unverified(answer: Answer, language: str) -> None:
    """The plain statement, then the most relevant evidence sentences quoted and numbered 1..n:
    nothing the model wrote."""
    assert answer.status == "unverified" and answer.refused and answer.language == language
    lines = answer.text.split("\n")
    assert lines[0] == UNVERIFIED[language]
    assert [c.number for c in answer.citations] == list(range(1, len(lines)))
    assert 2 <= len(answer.citations) <= 3
    for line, c in zip(lines[1:], answer.citations, strict=True):
        assert line == f"[{c.number}] «{prompt_text(c.quote)}»"
        assert not c.supported and prompt_text(c.quote) in answer.prompt  # evidence, verbatim


@pytest.mark.parametrize("reply", [NOT_FOUND, f" {NOT_FOUND}.", "NOT_FO", "Not_FOUND [5]",
                                   "not found"])
def test_the_refusal_token_is_never_streamed(seed_settings, embedder, reply):
    assistant = Assistant(seed_settings, embedder=embedder, llm=ScriptedLLM(reply, piece=2))
    streamed, answer = split(list(assistant.stream(ANSWERED_EN)))
    assert streamed == answer.text and "found" not in streamed.lower()
    check_unverified(answer, "en")


def test_an_answer_no_evidence_supports_is_replaced_by_the_passages(seed_settings, embedder):
    # Already streamed (the app shows it as provisional), so the pieces hold the model's text
    # then the unverified answer; the final Answer keeps what the model said apart.
    said = "Yoon Suk Yeol is the president of South Korea [1]."
    assistant = Assistant(seed_settings, embedder=embedder, llm=ScriptedLLM(said))
    streamed, answer = split(list(assistant.stream(UNANSWERED_EN)))
    assert streamed == said + answer.text
    check_unverified(answer, "en")
    assert answer.unsupported and answer.unsupported_text == said


@pytest.mark.parametrize("question", [ABSENT_EN, "من فاز بكأس العالم لكرة القدم 2022؟"])
def test_with_nothing_relevant_enough_the_answer_is_not_found_without_the_model(
        seed_settings, embedder, tmp_path, question):
    assistant = Assistant(seed_settings, embedder=embedder, llm=ScriptedLLM())  # not asked
    streamed, answer = split(list(assistant.stream(question)))
    language = detect_language(question)
    assert streamed == answer.text == REFUSAL[language]
    assert answer.status == "not_found" and answer.citations == [] and answer.prompt == ""


def test_the_relevance_floor_is_a_setting(seed_settings, embedder, tmp_path):
    settings = settings_for(seed_settings.index_dir, tmp_path, relevance_floor_en=0.99)
    assistant = Assistant(settings, embedder=embedder, llm=ScriptedLLM())  # must not be asked
    streamed, answer = split(list(assistant.stream(UNANSWERED_EN)))
    assert streamed == answer.text == REFUSAL["en"]
    assert answer.status == "not_found" and answer.citations == [] and answer.prompt == ""


def test_a_sampled_draft_is_tried_when_the_greedy_one_is_not_verified(seed_settings, embedder):
    def reply(messages, drafts=[]):  # noqa: B006 - counts the calls
        drafts.append(1)
        return NOT_FOUND if len(drafts) == 1 else f"{first_evidence(messages)} [1]"

    settings = seed_settings.with_values({"drafts": 3})
    llm = ScriptedLLM(reply)
    assistant = Assistant(settings, embedder=embedder, llm=llm)
    streamed, answer = split(list(assistant.stream(ANSWERED_AR)))
    assert answer.status == "answered" and answer.text == f"{first_evidence(llm.messages)} [1]"
    assert answer.timings["drafts"] == 2 and streamed.endswith(answer.text) is False


@pytest.mark.parametrize("reply", [
    lambda m: "Kim visited Moscow by train [9].",  # a marker that points nowhere
    lambda m: f"{first_evidence(m)} [1]",  # the Arabic sentence, to an English question
    lambda m: "",  # nothing at all
    lambda m: "[1]",  # only a marker
    lambda m: " ".join(["Shoigu asked for artillery ammunition [1]."] * 4),  # repeats itself
    lambda m: "Artillery ammunition ![x](http://127.0.0.1:9/x?d=SECRET) [1].",  # an image
    lambda m: "Artillery ammunition, see [here](http://127.0.0.1:9/) [1].",  # a link
], ids=["dead-marker", "wrong-language", "empty", "only-marker", "repeats", "image", "link"])
def test_a_bad_draft_is_never_shown(seed_settings, embedder, reply):
    assistant = Assistant(seed_settings, embedder=embedder, llm=ScriptedLLM(reply))
    answer = assistant.ask(ANSWERED_EN)
    assert answer.status in ("unverified", "not_found"), answer.text
    assert "http" not in answer.text and "![" not in answer.text
    # Nor in what the API and --json return (the refused draft was there as written).
    dumped = json.dumps(answer.to_dict(), ensure_ascii=False)
    assert "![" not in dumped and "](" not in dumped and "http://" not in dumped
    if answer.status == "unverified":
        check_unverified(answer, "en")


@pytest.mark.parametrize(("rewrite", "expected"), [
    ("When did Kim arrive in Vladivostok?", "When did Kim arrive in Vladivostok?"),
    # an answer instead of a question, from the model's memory: the previous answer helps
    ("Kim arrived in 2019 by plane.", "And when did he arrive? (Putin)"),
])
def test_a_follow_up_is_rewritten_only_into_a_question(seed_settings, embedder, rewrite,
                                                       expected):
    def reply(messages):
        condensing = messages[0]["content"] == load_prompt(PROMPTS, "condense", "en")
        return rewrite if condensing else NOT_FOUND

    assistant = Assistant(seed_settings, embedder=embedder, llm=ScriptedLLM(reply))
    answer = assistant.ask("And when did he arrive?",
                           [("Who did Kim meet in Russia?", "Putin [1].")])
    assert answer.standalone_question == expected


def test_a_question_that_stands_alone_is_not_rewritten_after_another(seed_settings, embedder):
    asked = []

    def reply(messages):
        asked.append(messages[0]["content"])
        return NOT_FOUND

    assistant = Assistant(seed_settings, embedder=embedder, llm=ScriptedLLM(reply))
    answer = assistant.ask("من هو جون كيربي؟", [("متى سيلتقي كيم جونغ أون بوتين؟", "قريباً [1].")])
    assert answer.standalone_question == ""  # searched as asked
    assert load_prompt(PROMPTS, "condense", "ar") not in asked and len(asked) == 1


def test_a_runaway_answer_is_stopped_and_not_shown(seed_settings, embedder):
    said = "1" + "0" * 200 + " [1]"  # what the 1.5B model wrote for a deal's value
    llm = ScriptedLLM(said, piece=1)
    assistant = Assistant(seed_settings, embedder=embedder, llm=llm)
    streamed, answer = split(list(assistant.stream(ANSWERED_AR)))
    check_unverified(answer, "ar")
    assert answer.unsupported
    assert len(streamed) < 40 + len(answer.text)  # stopped after 16 repeats, not 200


# ---------------------------------------------------------------------------------- real model


@pytest.fixture
def real(seed_settings, embedder, small_llm) -> Assistant:
    settings = Settings.load(index_dir=seed_settings.index_dir, llm=models.SMALL_LLM,
                             max_answer_tokens=60)
    return Assistant(settings, embedder=embedder, llm=small_llm)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_an_arabic_question_is_answered_in_arabic_as_it_streams(real):
    streamed, answer = split(list(real.stream(ANSWERED_AR)))
    print(f"\n{answer.text!r} in {answer.timings['total']:.1f} s")
    assert not answer.refused and not answer.unsupported
    assert answer.language == "ar" and detect_language(answer.text) == "ar"
    assert answer.citations and all(c.supported for c in answer.citations)
    assert streamed.strip() and MARKER.sub("", streamed).split() == \
        MARKER.sub("", answer.text).split()
    # The prompt is the Arabic one, with the numbered evidence and the question.
    assert load_prompt(PROMPTS, "answer", "ar") in answer.prompt
    assert "\n[1] " in answer.prompt and ANSWERED_AR in answer.prompt


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_question_the_articles_do_not_answer_is_not_answered_in_its_language(real):
    answer = real.ask(UNANSWERED_EN)
    print(f"\n{answer.text!r}; the model said {answer.unsupported_text!r}")
    assert answer.status in ("unverified", "not_found") and answer.language == "en"
    assert answer.text.startswith((UNVERIFIED["en"], REFUSAL["en"]))
    # The model was asked: the prompt it got and the time each step took are reported.
    # (An English question over Arabic articles: the model is asked to copy the Arabic words
    # that answer, then to answer in English.)
    assert UNANSWERED_EN in answer.prompt
    assert load_prompt(PROMPTS, "extract", "en") in answer.prompt
    assert load_prompt(PROMPTS, "say", "en") in answer.prompt
    t = answer.timings
    assert {"retrieval", "first_token", "total"} <= t.keys(), t
    assert 0 < t["retrieval"] <= t["first_token"] <= t["total"], t


def test_the_readme_python_example_imports_from_the_package():
    import re
    from pathlib import Path

    import rag

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    names = {n.strip() for line in re.findall(r"^from rag import (.+)$", readme, re.MULTILINE)
             for n in line.split(",")}
    assert "Assistant" in names
    for name in names | set(rag.__all__):
        assert hasattr(rag, name), name
    assert callable(rag.Assistant.from_settings)


# ------------------------------------------------------------ English questions, Arabic sources

TUESDAY_EN = "On which day of the week does South Korea's defense ministry believe Kim entered Russia?"


def crossing_model(copy: str, said: str, rendered: str = "Wednesday") -> ScriptedLLM:
    """Copies `copy` (with the number of the source holding it), then answers `said`, and
    renders Arabic words as `rendered`."""
    def reply(messages):
        last = messages[-1]["content"]
        if last.endswith("->"):
            return rendered
        if last == load_prompt(PROMPTS, "say", "en"):
            return said
        number = next((n for n, text in re.findall(r"^\[(\d+)\] (.+)$", last, re.MULTILINE)
                       if copy in text), "1")
        return f"{copy} [{number}]"
    return ScriptedLLM(reply)


def test_an_english_answer_is_the_arabic_words_said_in_english(seed_settings, embedder):
    # The model answers "Wednesday" and renders الثلاثاء as "Wednesday" (as the 1.5B model
    # does): neither agrees with the copied words, so the weekday is said by rule.
    llm = crossing_model("الثلاثاء", "Kim entered Russia on Wednesday [1].")
    answer = Assistant(seed_settings, embedder=embedder, llm=llm).ask(TUESDAY_EN)
    assert answer.status == "answered", answer.text
    assert answer.text == "Tuesday («الثلاثاء») [1]"
    assert [c.number for c in answer.citations] == [1] and "الثلاثاء" in answer.citations[0].quote


def test_an_english_draft_that_agrees_with_the_copied_words_is_kept(seed_settings, embedder):
    llm = crossing_model("الثلاثاء", "Kim entered Russia on Tuesday [1].")
    answer = Assistant(seed_settings, embedder=embedder, llm=llm).ask(TUESDAY_EN)
    assert answer.text == "Kim entered Russia on Tuesday («الثلاثاء») [1]"


@pytest.mark.parametrize("copy", ["إنترفاكس", "كيم", "Tuesday"],
                         ids=["not-in-the-sources", "the-question's-own", "not-a-copy"])
def test_a_copy_that_is_not_the_sources_answer_is_never_shown(seed_settings, embedder, copy):
    llm = crossing_model(copy, "Kim entered Russia on Wednesday [1].")
    answer = Assistant(seed_settings, embedder=embedder, llm=llm).ask(TUESDAY_EN)
    check_unverified(answer, "en")
    assert copy not in answer.text.split("\n")[0] and "Wednesday" not in answer.text


SULLIVAN_EN = ("On what date did Jake Sullivan warn that North Korea would pay a price for "
               "supplying Russia with weapons?")


@pytest.mark.parametrize(("said", "answered"), [
    ("On September 5, 2023, Jake Sullivan warned that North Korea would pay a price. (1)", True),
    ("On September 6, 2023, Jake Sullivan warned that North Korea would pay a price. (1)", False),
])
def test_a_date_the_draft_cites_no_sentence_for_is_checked_against_each(seed_settings, embedder,
                                                                        said, answered):
    # The 1.5B model's copy was "2023-09-05 (1)", no Arabic words; its English answer marked
    # its source "(1)", not "[1]". The date is in one sentence of the evidence, or in none.
    llm = crossing_model("2023-09-05", said)
    answer = Assistant(seed_settings, embedder=embedder, llm=llm).ask(SULLIVAN_EN)
    assert (answer.status == "answered") is answered, answer.text
    if answered:
        assert "5 سبتمبر" in answer.citations[0].quote and answer.text.endswith("[1]")

"""Evaluation: matching rules, question-set loading, metrics, the regression gate, XQuAD.

Unit tests drive `evaluate` with a fake assistant returning canned answers; one slow test
runs a few seed questions through the real pipeline with the small model.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import evaluate as ev
from rag.config import Settings
from rag.types import Answer, Chunk, Citation, Document, Passage

ROOT = Path(__file__).resolve().parent.parent
SEED_QUESTIONS = ROOT / "tests" / "questions" / "seeds.jsonl"
MODEL = Path.home() / ".cache/rag/models/multilingual-e5-small"
SMALL_LLM = "qwen2.5-coder-0.5b-instruct-q4_k_m"


# ---------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(("answer", "expected"), [
    ("زار وزير الدفاع أوكرانيا", "اوكرانيا"),  # hamza on alef
    ("شَرِيكٌ مُهِمٌّ", "شريك مهم"),  # diacritics
    ("مدينة فلاديفوستوك", "مدينه"),  # ta marbuta
    ("تدريبات بحرية بالصين", "الصين"),  # clitic in front of the article
    ("ذهب للصين", "الصين"),
    ("ووصل وللصين", "الصين"),  # conjunction, preposition and article together
    ("وكيم", "كيم"),
    ("SHOIGU said", "Shoigu"),  # case
    ("the two countries", "country"),  # no: "countries" is not a plural in +s/+es
])
def test_text_matching(answer, expected):
    should_match = expected != "country"
    assert ev.matches(answer, [[expected]]) is should_match


@pytest.mark.parametrize(("answer", "expected", "match"), [
    ("فرضت عقوبات على ٣ كيانات", "3", True),  # Arabic-Indic digits
    ("on 3 entities", "٣", True),
    ("في عام ۲۰۱۹", "2019", True),  # Persian digits
    ("10,500 million euros", "10500", True),  # thousands separator
    ("in 2023", "3", False),  # a number matches whole numbers only
    ("it lasted two days [3]", "3", False),  # citation markers are not part of the answer
    ("5.5 مليون يورو", "5.5", True),
    ("٥٫٥ مليون", "5.5", True),  # Arabic decimal separator
])
def test_number_matching(answer, expected, match):
    assert ev.matches(answer, [[expected]]) is match


def test_an_alternative_needs_all_its_parts_and_any_alternative_will_do():
    alternatives = [["Kirby", "Watson"], ["spokespeople"]]
    assert ev.matches("John Kirby and Adrienne Watson", alternatives)
    assert ev.matches("two spokespeople", alternatives)
    assert not ev.matches("John Kirby", alternatives)
    assert ev.missing_parts("John Kirby", alternatives) == ["Watson"]
    assert ev.missing_parts("nothing here", [["a b", "c"], ["Kirby"]]) == ["Kirby"]
    assert not ev.matches("anything", [])


def test_source_matching_by_doc_id_file_name_and_prefix():
    doc_id = "004_99c36a4a58da5804.txt#1:83392ad2839c"
    assert ev.source_matches(doc_id, doc_id)
    assert ev.source_matches(doc_id, "004_99c36a4a58da5804.txt")
    assert ev.source_matches(doc_id, "004_99c36a4a58da5804.txt#1")
    assert not ev.source_matches(doc_id, "004_99c36a4a58da5804.txt#0")
    assert not ev.source_matches(doc_id, "004_99c36a4a58da5804")


def test_a_citation_is_correct_with_the_right_document_and_a_quote_holding_the_answer():
    item = ev.Item("q", "Who?", "en", [["Shoigu"]], sources=["a.txt"], quotes=["شويغو"])
    assert ev.citation_correct("a.txt#0:x", "قال شويغو إن ...", item)
    assert not ev.citation_correct("b.txt#0:x", "قال شويغو إن ...", item)  # other document
    assert not ev.citation_correct("a.txt#0:x", "قال بوتين إن ...", item)  # quote lacks it
    no_quotes = ev.Item("q", "Who?", "en", [["Shoigu"]], sources=["a.txt"])
    assert ev.citation_correct("a.txt#0:x", "Shoigu said", no_quotes)  # answers are the default


# ---------------------------------------------------------------------------------- loading


def write_lines(path: Path, *objects) -> Path:
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)
                              for o in objects) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "q1", "question": "Who visited?", "answers": ["Shoigu"], "sources": ["a.txt"]}


def test_loads_jsonl_with_defaults_comments_and_groups(tmp_path):
    path = write_lines(tmp_path / "set.jsonl", "# a comment", GOOD, "",
                       {"id": "q2", "question": "من زار؟", "answers": [["كيم", "بوتين"], "x"],
                        "history": [["a?", "b."]]},
                       {"id": "q3", "question": "Unknown?", "answerable": False})
    q1, q2, q3 = ev.load_questions(path)
    assert (q1.lang, q1.answers, q1.answerable, q1.tags) == ("en", [["Shoigu"]], True, [])
    assert (q2.lang, q2.answers, q2.history) == ("ar", [["كيم", "بوتين"], ["x"]], [("a?", "b.")])
    assert (q3.answerable, q3.answers) == (False, [])


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "set.jsonl:2: not valid JSON"),
    ({**GOOD, "answer": "x"}, "set.jsonl:2: unknown field 'answer'"),
    ({**GOOD, "question": ""}, "set.jsonl:2: field 'question' must be a non-empty string"),
    ({**GOOD, "answers": []}, "set.jsonl:2: field 'answers' is required"),
    ({**GOOD, "answers": [["x", 3]]}, "set.jsonl:2: field 'answers' must be a list"),
    ({**GOOD, "answers": ["?!"]}, "set.jsonl:2: answer '?!' has no letters or digits"),
    ({**GOOD, "lang": "fr"}, "set.jsonl:2: field 'lang' must be one of ar, en (got 'fr')"),
    ({**GOOD, "answerable": "no"}, "set.jsonl:2: field 'answerable' must be true or false"),
    ({**GOOD, "history": [["only a question"]]}, "set.jsonl:2: field 'history' must be"),
    ({**GOOD, "sources": "a.txt"}, "set.jsonl:2: field 'sources' must be a list of strings"),
    ({**GOOD, "id": "q0"} | {"id": "q1"}, "set.jsonl:2: duplicate id 'q1' (first at set.jsonl:1)"),
])
def test_load_errors_name_the_line_and_the_field(tmp_path, line, message):
    first = {**GOOD, "id": "q1"} if isinstance(line, dict) and line.get("id") == "q1" \
        else {**GOOD, "id": "q0"}
    path = write_lines(tmp_path / "set.jsonl", first, line)
    with pytest.raises(ev.EvaluationError) as e:
        ev.load_questions(path)
    assert message in str(e.value)


def test_missing_and_empty_sets_are_errors(tmp_path):
    with pytest.raises(ev.EvaluationError, match="does not exist"):
        ev.load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(ev.EvaluationError, match="no questions"):
        ev.load_questions(write_lines(tmp_path / "empty.jsonl", "# nothing"))


def test_loads_yaml(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "set.yaml"
    path.write_text("- id: q1\n  question: Who visited?\n  answers: [Shoigu, [Kim, Putin]]\n"
                    "- id: q2\n  question: Where?\n", encoding="utf-8")
    with pytest.raises(ev.EvaluationError, match="set.yaml item 2: field 'answers' is required"):
        ev.load_questions(path)
    path.write_text("questions:\n- id: q1\n  question: Who?\n  answers: [Shoigu]\n",
                    encoding="utf-8")
    assert ev.load_questions(path)[0].answers == [["Shoigu"]]


def test_sampling_is_reproducible_and_keeps_set_order():
    items = [ev.Item(str(i), "q", "en", [["a"]]) for i in range(20)]
    assert ev.sample(items, 3, None) == items[:3]
    picked = ev.sample(items, 5, 7)
    assert picked == ev.sample(items, 5, 7) and len(picked) == 5
    assert [int(i.id) for i in picked] == sorted(int(i.id) for i in picked)
    assert ev.sample(items, 50, 1) == items


def test_the_seed_question_set():
    items = ev.load_questions(SEED_QUESTIONS)
    langs = Counter(i.lang for i in items)
    assert len(items) >= 60 and langs["ar"] == langs["en"]
    assert sum(not i.answerable for i in items) >= 10
    assert sum(bool(i.history) for i in items) >= 4
    assert all(i.tags[0] == i.lang and len(i.tags) >= 2 for i in items)
    files = {p.name for p in (ROOT / "seeds").glob("*.txt")}
    sources = {s for i in items for s in i.sources}
    assert {s.split("#")[0] for s in sources} == files  # every article is asked about
    assert {s for s in sources if s.endswith(("#1",))} == {  # and every teaser
        "001_0f7e11fcbccc7f40.txt#1", "002_687531a2e5c0bf49.txt#1", "004_99c36a4a58da5804.txt#1"}


# ---------------------------------------------------------------------------------- running


def doc(doc_id: str) -> Document:
    return Document(doc_id=doc_id, source_file=doc_id.split("#")[0], title="t", text="text")


def passage(doc_id: str, rank: int = 1) -> Passage:
    return Passage(Chunk(rank, doc_id, "text", 0, 4, 0), doc(doc_id), score=1.0 / rank, rank=rank)


def cite(doc_id: str, quote: str, supported: bool = True) -> Citation:
    return Citation(1, doc_id, "t", "", "", quote, 0, len(quote), 0.9 if supported else 0.1,
                    supported)


class FakeAssistant:
    """Canned answers and rankings by question: the Assistant's ask/search interface."""

    def __init__(self, answers: dict[str, Answer], rankings: dict[str, list[str]]) -> None:
        self.settings = Settings()
        self.answers, self.rankings = answers, rankings
        self.asked: list[tuple[str, tuple]] = []
        self.searched: list[str] = []

    def ask(self, question, history=()):
        self.asked.append((question, tuple(history)))
        answer = self.answers[question]
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def search(self, query, k=None):
        self.searched.append(query)
        return [passage(d, r) for r, d in enumerate(self.rankings.get(query, [])[:k], start=1)]


A, B = "a.txt#0:111", "b.txt#0:222"
ITEMS = [
    ev.Item("ar-ok", "من زار؟", "ar", [["شويغو"]], sources=["a.txt"], tags=["ar", "fact"]),
    ev.Item("en-wrong", "Who visited?", "en", [["Shoigu"]], sources=["a.txt"],
            quotes=["شويغو"], tags=["en", "fact"]),
    ev.Item("en-none", "Who is the president?", "en", [], answerable=False,
            tags=["en", "unanswerable"]),
    ev.Item("ar-refused", "متى؟", "ar", [["الأحد"]], sources=["b.txt"], tags=["ar", "date"]),
]


def answers(**changes) -> dict[str, Answer]:
    timing = {"retrieval": 0.1, "first_token": 1.0, "total": 2.0}
    canned = {
        "من زار؟": Answer("من زار؟", "زار شويغو بيونغ يانغ [1].", "ar",
                          [cite(A, "زار شويغو كوريا الشمالية")], timings=dict(timing)),
        "Who visited?": Answer("Who visited?", "Putin visited [1].", "en",
                               [cite(B, "زار بوتين"), cite(A, "زار شويغو", supported=False)],
                               timings=dict(timing)),
        "Who is the president?": Answer("Who is the president?", "The articles don't say.",
                                        "en", status="not_found", timings=dict(timing)),
        "متى؟": Answer("متى؟", "لا تذكر المقالات ذلك.", "ar", status="not_found",
                       timings=dict(timing)),
    }
    canned.update(changes)
    return canned


RANKINGS = {"من زار؟": [A, B], "Who visited?": [B, A], "Who is the president?": [B],
            "متى؟": [A]}


def run(**changes) -> ev.Report:
    return ev.evaluate(FakeAssistant(answers(**changes), RANKINGS), ITEMS, k=5, name="mini")


def test_per_question_results_and_reasons():
    ok, wrong, none, refused = run().results
    assert ok.passed and ok.reasons == [] and ok.source_rank == 1 and ok.citation_precision == 1
    assert not wrong.passed and wrong.source_rank == 2 and wrong.citation_precision == 0.5
    assert wrong.reasons == ["answer lacks 'Shoigu'"]
    assert [c["correct"] for c in wrong.citations] == [False, True]
    assert none.passed and none.correct is None
    assert not refused.passed and refused.reasons == ["not answered (not_found)"]
    assert refused.source_rank is None and refused.retrieved == [A]


def test_metrics_on_a_mini_report():
    t = run().totals
    assert t["recall@1"] == pytest.approx(1 / 3) and t["recall@k"] == pytest.approx(2 / 3)
    assert t["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert t["answer_accuracy"] == pytest.approx(1 / 3)
    assert t["refusal_accuracy"] == 1.0
    assert t["wrong_refusal_rate"] == pytest.approx(1 / 3)
    assert t["language_match"] == 1.0
    assert t["cited_answers"] == 1.0  # of the two answered answerable questions
    assert t["citation_precision"] == 0.75  # mean of 1.0 and 0.5
    assert t["pass_rate"] == 0.5
    assert t["latency_total_p50"] == 2.0 and t["latency_first_token_p95"] == 1.0
    report = run()
    assert report.counts["answer_accuracy"] == 3 and report.counts["refusal_accuracy"] == 1
    assert report.by_language["ar"]["answer_accuracy"] == 0.5
    assert report.by_language["en"]["refusal_accuracy"] == 1.0
    assert report.models == {"llm": Settings().llm,
                             "embedding_model": Settings().embedding_model}


def test_wrong_language_unanswered_refusal_and_errors_are_failures():
    report = run(**{
        "من زار؟": Answer("من زار؟", "Shoigu visited [1].", "ar", [cite(A, "زار شويغو")]),
        "Who is the president?": Answer("Who is the president?", "Yoon.", "en"),
        "Who visited?": Answer("Who visited?", " ", "en"),
        "متى؟": RuntimeError("model crashed"),
    })
    ok, empty, none, broken = report.results
    assert empty.reasons == ["empty answer that is not a refusal"]
    assert ok.reasons == ["answer lacks 'شويغو'", "answered in 'en', asked in 'ar'"]
    assert none.reasons == ["answered a question the articles do not answer"]
    assert broken.error == "RuntimeError: model crashed" and not broken.passed
    assert report.totals["refusal_accuracy"] == 0.0
    assert report.counts["language_match"] == 3  # the broken question has no answer to judge


def test_a_number_alone_is_an_answer_in_the_language_of_the_question():
    item = ev.Item("year", "في أي عام التقيا؟", "ar", [["2019"]], sources=["a.txt"])
    answer = Answer(item.question, "2019 [1]", "ar", [cite(A, "التقيا عام 2019")])
    result = ev.evaluate(FakeAssistant({item.question: answer}, {item.question: [A]}),
                         [item]).results[0]
    assert result.answer_language == "ar" and result.passed, result.reasons


@pytest.mark.parametrize(("text", "language"), [
    ("Tuesday («الثلاثاء») [1]", "en"),  # the source's words it carries are not its language
    ("«الثلاثاء» [1]", "ar"),  # a quote alone is in the quote's language
    ("36 («36 ساعة») [1]", "en"),  # a number alone: the question's
])
def test_the_source_words_an_english_answer_quotes_are_not_its_language(text, language):
    item = ev.Item("day", "On which day did Kim arrive?", "en", [["Tuesday"]], sources=["a.txt"])
    answer = Answer(item.question, text, "en", [cite(A, "وصل كيم يوم الثلاثاء")])
    result = ev.evaluate(FakeAssistant({item.question: answer}, {item.question: [A]}),
                         [item]).results[0]
    assert result.answer_language == language


def test_an_answer_that_repeats_the_question_is_not_correct():
    item = ev.Item("first", "Which came first, the visit of Shoigu or of Kim?", "en",
                   [["Shoigu"]], sources=["a.txt"])
    echo = Answer(item.question, "Question: which came first, the visit of Shoigu or of Kim? [1]",
                  "en", [cite(A, "زار شويغو")])
    real = Answer(item.question, "The visit of Shoigu came first [1].", "en", [cite(A, "زار شويغو")])
    for answer, correct in ((echo, False), (real, True)):
        report = ev.evaluate(FakeAssistant({item.question: answer}, {item.question: [A]}), [item])
        assert report.results[0].correct is correct, report.results[0].missing


def test_follow_ups_send_history_and_retrieve_with_the_standalone_question():
    item = ev.Item("f", "And when?", "en", [["Sunday"]], sources=["a.txt"],
                   history=[("Who left?", "Kim [1].")])
    fake = FakeAssistant({"And when?": Answer("And when?", "On Sunday [1].", "en",
                                              [cite(A, "غادر كيم الأحد")],
                                              standalone_question="When did Kim leave?")},
                         {"When did Kim leave?": [A]})
    result = ev.evaluate(fake, [item]).results[0]
    assert fake.asked == [("And when?", (("Who left?", "Kim [1]."),))]
    assert fake.searched == ["When did Kim leave?"] and result.source_rank == 1


def test_retrieval_only_never_asks_the_model():
    fake = FakeAssistant({}, {**RANKINGS, "Who left? And when?": [A]})
    items = [*ITEMS, ev.Item("f", "And when?", "en", [["x"]], sources=["a.txt"],
                             history=[("Who left?", "Kim.")])]
    report = ev.evaluate(fake, items, retrieval_only=True, k=5)
    assert fake.asked == [] and report.mode == "retrieval-only"
    assert [r.passed for r in report.results] == [True, True, True, False, True]
    assert "answer_accuracy" not in report.totals and report.totals["recall@k"] == 0.75
    assert report.totals["latency_retrieval_p50"] is not None
    assert report.totals["latency_total_p50"] is None


def test_report_round_trips_and_writes_markdown(tmp_path):
    report = run()
    json_path, md_path = ev.write_report(report, tmp_path / "out")
    assert json_path.name.startswith("mini_") and json_path.name.endswith(".json")
    assert md_path == json_path.with_suffix(".md")
    assert ev.Report.load(json_path) == report
    text = md_path.read_text(encoding="utf-8")
    assert "| recall@5 |" in text and "`en-wrong`" in text and "answer lacks" in text
    with pytest.raises(ev.EvaluationError, match="Cannot read the report"):
        ev.Report.load(md_path)


# ---------------------------------------------------------------------------------- gate


def test_identical_reports_pass_the_gate():
    assert ev.compare(run(), run()) == []


def without_citations() -> dict[str, Answer]:
    canned = answers()
    for answer in canned.values():
        answer.citations = []
    return canned


def test_dropped_citations_fail_the_gate():
    baseline = run()
    broken = run(**without_citations())
    problems = ev.compare(broken, baseline)
    assert any(p.startswith("cited_answers went from 1.000 to 0.000") for p in problems)
    assert not any(p.startswith("pass_rate") for p in problems)  # one question of 4: noise
    assert "ar-ok: pass -> fail (no supported citation)" in problems


def test_timing_changes_alone_pass_the_gate():
    slow = run()
    for r in slow.results:
        r.timings = {key: value * 10 for key, value in r.timings.items()}
    slow.totals.update({k: v * 10 for k, v in slow.totals.items() if k.startswith("latency")})
    assert ev.compare(slow, run()) == []


def test_one_question_of_noise_is_tolerated_but_reported():
    items = [ev.Item(f"q{i}", f"Who {i}?", "en", [["Kim"]], sources=["a.txt"]) for i in range(10)]

    def report(wrong: int) -> ev.Report:
        canned = {i.question: Answer(i.question, "Putin [1]." if n < wrong else "Kim [1].", "en",
                                     [cite(A, "كيم Kim")]) for n, i in enumerate(items)}
        return ev.evaluate(FakeAssistant(canned, {i.question: [A] for i in items}), items)

    assert ev.compare(report(1), report(0)) == []
    assert ev.newly_failing(report(1), report(0)) == ["q0: pass -> fail (answer lacks 'Kim')"]
    problems = ev.compare(report(2), report(0))
    assert problems[0].startswith("pass_rate went from 1.000 to 0.800 (tolerance 0.100")
    assert problems[-2:] == ["q0: pass -> fail (answer lacks 'Kim')",
                             "q1: pass -> fail (answer lacks 'Kim')"]


def test_reports_of_different_sets_or_modes_are_not_compared():
    baseline = run()
    smaller = ev.evaluate(FakeAssistant(answers(), RANKINGS), ITEMS[:2])
    assert ev.compare(smaller, baseline)[0].startswith("not comparable: the question sets differ")
    retrieval = ev.evaluate(FakeAssistant({}, RANKINGS), ITEMS, retrieval_only=True)
    assert ev.compare(retrieval, baseline)[0].startswith("not comparable: this run is retrieval")


def test_eval_command_exits_non_zero_on_a_regression(tmp_path, monkeypatch):
    from rag import assistant, cli

    path = write_lines(tmp_path / "mini.jsonl", *[
        {"id": i.id, "question": i.question, "lang": i.lang,
         "answers": i.answers, "sources": i.sources, "answerable": i.answerable}
        for i in ITEMS])
    canned = answers()
    monkeypatch.setattr(assistant, "Assistant", lambda settings: FakeAssistant(canned, RANKINGS))
    runner = CliRunner()
    out = tmp_path / "reports"
    first = runner.invoke(cli.cli, ["eval", str(path), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert "# Evaluation: mini (full)" in first.output
    baseline = next(out.glob("mini_*.json"))
    canned.update(without_citations())  # a broken change: the citations are gone
    second = runner.invoke(cli.cli, ["eval", str(path), "--out", str(tmp_path / "r2"),
                                     "--baseline", str(baseline)])
    assert second.exit_code == 1
    assert "ar-ok: pass -> fail" in second.output


# ---------------------------------------------------------------------------------- XQuAD


def fake_xquad(folder: Path) -> Path:
    folder.mkdir()

    def data(question: str, answer: str, context: str) -> dict:
        return {"version": "1.1", "data": [{"title": "Topic", "paragraphs": [
            {"context": "first", "qas": []},
            {"context": context, "qas": [
                {"id": "x1", "question": question,
                 "answers": [{"answer_start": 0, "text": answer},
                             {"answer_start": 0, "text": answer}]}]}]}]}

    for lang, question, answer in (("ar", "كم نقطة؟", "٣٠٨"), ("en", "How many points?", "308")):
        context = "تخلى الفريق عن ٣٠٨ نقطة." if lang == "ar" else "They gave up 308 points."
        (folder / f"xquad.{lang}.json").write_text(
            json.dumps(data(question, answer, context), ensure_ascii=False), encoding="utf-8")
    return folder


def test_xquad_items_for_both_languages(tmp_path):
    folder = fake_xquad(tmp_path / "xq")
    [ar] = ev.load_xquad(folder, "ar")
    [en] = ev.load_xquad(folder, "en")
    assert (ar.id, ar.question, ar.answers, ar.quotes) == ("x1-ar", "كم نقطة؟", [["٣٠٨"]], [])
    assert (en.id, en.question, en.answers, en.quotes) == ("x1-en", "How many points?",
                                                           [["308"]], ["٣٠٨"])
    assert ar.sources == en.sources == ["xquad_00_01.txt"]
    with pytest.raises(ev.EvaluationError, match="Cannot read XQuAD"):
        ev.load_xquad(tmp_path, "ar")


def test_xquad_corpus_files_become_one_document_each(tmp_path):
    from rag.cleaner import ArticleCleaner

    corpus = ev.write_xquad_corpus(fake_xquad(tmp_path / "xq"), tmp_path / "corpus")
    files = sorted(corpus.iterdir())
    assert [f.name for f in files] == ["xquad_00_00.txt", "xquad_00_01.txt"]
    [document] = ArticleCleaner().clean(files[1].read_text(encoding="utf-8"), files[1].name, "h")
    assert document.title == "XQuAD 00-01" and "٣٠٨" in document.text
    assert ev.source_matches(document.doc_id, "xquad_00_01.txt")


def test_xquad_index_lives_next_to_the_main_one():
    settings = ev.xquad_settings(Settings(index_dir=Path("/data/index")))
    assert settings.index_dir == Path("/data/index-xquad/index")


# ---------------------------------------------------------------------------------- real


@pytest.mark.slow
@pytest.mark.skipif(not (MODEL / "rag-source.json").exists(),
                    reason="the embedding model is not assembled (rag models fetch)")
def test_real_pipeline_on_a_few_seed_questions(tmp_path):
    from rag.assistant import Assistant

    items = ev.load_questions(SEED_QUESTIONS)
    simple = [i for i in items if i.answerable and not i.history]
    chosen = ([i for i in simple if i.lang == "ar"][:3] + [i for i in simple if i.lang == "en"][:2]
              + [i for i in items if i.lang == "en" and not i.answerable][:1])
    assistant = Assistant.from_settings(llm=SMALL_LLM, index_dir=tmp_path / "index")
    assistant.ingest([ROOT / "seeds"])
    report = ev.evaluate(assistant, chosen, k=5, name="seeds-smoke")

    assert report.totals["recall@k"] >= 0.5
    assert all(r.error == "" for r in report.results)
    assert all(r.answer_language in ("ar", "en") for r in report.results)
    unanswerable = report.results[-1]
    assert unanswerable.refused or unanswerable.reasons
    assert all(r.passed or r.reasons for r in report.results)
    json_path, md_path = ev.write_report(report, tmp_path / "reports")
    assert ev.Report.load(json_path) == report
    assert "# Evaluation: seeds-smoke (full)" in md_path.read_text(encoding="utf-8")
    print(ev.markdown(report))  # the figures, visible with pytest -s

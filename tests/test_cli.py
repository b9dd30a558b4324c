"""The `rag` command line over the seed index: `ask --json`, `search`, and its errors.

Commands run in-process with click's CliRunner over the real Assistant; the Assistant is
given the models this session already loaded, so that each command does not load them again.
Errors are also checked in a real process, where a traceback would reach stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rag import assistant as assistant_module
from rag import models
from rag.cli import cli

ANSWERED_AR = "في أي ذكرى لنهاية الحرب الكورية زار شويغو كوريا الشمالية؟"
EMPTY_QUESTION = "Error: The question is empty. Type a question about the articles."


@pytest.fixture
def session_models(monkeypatch, embedder):
    """Make the CLI's Assistant use the session's embedder (and a given LLM, if any)."""
    real = assistant_module.Assistant

    def use(llm=None):
        monkeypatch.setattr(assistant_module, "Assistant",
                            lambda settings: real(settings, embedder=embedder, llm=llm))
    use()
    return use


def run(*args: str, index_dir) -> object:
    result = CliRunner().invoke(cli, list(args), env={"RAG_INDEX_DIR": str(index_dir),
                                                      "RAG_LLM": models.SMALL_LLM,
                                                      "RAG_MAX_ANSWER_TOKENS": "60"})
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


def rag_process(*args: str, index_dir, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(index_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], check=False, cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


# ---------------------------------------------------------------------------------- search


def test_search_prints_the_passages_with_their_source(seed_settings, session_models):
    result = run("search", "شويغو بيونغ يانغ ذخيرة", "-k", "3", index_dir=seed_settings.index_dir)
    assert result.exit_code == 0, result.stderr
    out = lines(result.stdout)
    print("\n" + "\n".join(out[:4]))
    assert len(out) == 3 * 4  # title, source, scores, text
    assert [ln.split("]")[0] for ln in out[::4]] == ["[1", "[2", "[3"]
    for source, scores, text in zip(out[1::4], out[2::4], out[3::4], strict=True):
        assert ".txt#" in source.split(" | ")[0]  # the document id
        assert scores.strip().startswith("fused ") and " chars " in scores
        assert text.startswith("    ") and len(text.strip()) > 40
    assert "شويغو" in result.stdout or "شويجو" in result.stdout


def test_search_json_gives_the_passages_as_data(seed_settings, session_models):
    result = run("search", "Kim Jong Un Vladivostok", "--json", "-k", "2",
                 index_dir=seed_settings.index_dir)
    assert result.exit_code == 0, result.stderr
    passages = json.loads(result.stdout)
    assert [p["rank"] for p in passages] == [1, 2]
    for p in passages:
        assert p["doc_id"].startswith(p["source_file"] + "#")
        assert p["text"] and p["end"] - p["start"] == len(p["text"])


# ---------------------------------------------------------------------------------- ask


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ask_json_gives_the_answer_its_citations_and_whether_it_was_refused(
        seed_settings, session_models, small_llm):
    session_models(small_llm)
    result = run("ask", "--json", ANSWERED_AR, index_dir=seed_settings.index_dir)
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)  # nothing but the JSON on stdout
    print(f"\n{answer['text']!r}")
    assert answer["question"] == ANSWERED_AR and answer["language"] == "ar"
    assert answer["refused"] is False and answer["text"]
    assert answer["citations"], answer
    for c in answer["citations"]:
        assert {"number", "doc_id", "title", "quote", "start", "end", "supported"} <= c.keys()
        assert f"[{c['number']}]" in answer["text"] and c["quote"]
    assert {"retrieval", "first_token", "total"} <= answer["timings"].keys()
    assert ANSWERED_AR in answer["prompt"]


def test_ask_json_reports_a_refusal_as_data(seed_settings, session_models):
    result = run("ask", "--json", "Quelle est la capitale de la France ?",
                 index_dir=seed_settings.index_dir)
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["refused"] is True and answer["citations"] == []
    assert "Arabic and English only" in answer["text"] and answer["language"] == "fr"


# ---------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args", [["ask", ""], ["ask", "   "], ["search", ""],
                                  ["ask", "--json", " "]])
def test_an_empty_question_exits_1_with_one_error_line(seed_settings, session_models, args):
    result = run(*args, index_dir=seed_settings.index_dir)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert lines(result.stderr) == [EMPTY_QUESTION]


def test_without_an_index_ask_exits_1_saying_how_to_build_one(tmp_path, session_models):
    result = run("ask", "Who is Kim?", index_dir=tmp_path / "index")
    assert result.exit_code == 1 and result.stdout == ""
    expected = f"Error: No index in {tmp_path / 'index'}. Build one with: rag ingest seeds/"
    assert lines(result.stderr) == [expected]


def test_errors_in_a_real_process_are_one_line_without_a_traceback(tmp_path):
    index = tmp_path / "index"  # never read: both fail before
    empty = rag_process("ask", "  ", index_dir=index, cwd=tmp_path)
    assert empty.returncode == 1 and empty.stdout == ""
    assert lines(empty.stderr) == [EMPTY_QUESTION]

    bad = rag_process("ask", "--bogus", "Who is Kim?", index_dir=index, cwd=tmp_path)
    # click's usage error: exit 2, a usage hint, then one "Error:" line naming the option
    assert bad.returncode == 2 and bad.stdout == ""
    errors = [ln for ln in lines(bad.stderr) if ln.startswith("Error")]
    assert errors == ["Error: No such option '--bogus'."], bad.stderr
    assert "Usage: rag ask" in bad.stderr
    for result in (empty, bad):
        assert "Traceback" not in result.stderr


def test_a_broken_index_folder_is_one_line_saying_what_to_do(tmp_path, session_models):
    """RAG_INDEX_DIR naming a file, and a CURRENT file of binary junk, were tracebacks."""
    not_a_folder = tmp_path / "index.txt"
    not_a_folder.write_text("oops")
    for args in (("search", "Kim"), ("ingest", str(tmp_path))):
        result = run(*args, index_dir=not_a_folder)
        assert result.exit_code == 1, result.output
        [error] = lines(result.stderr)
        assert error == (f"Error: The index folder {not_a_folder} is a file, not a folder. "
                         f"Point index_dir (RAG_INDEX_DIR) at a folder; it is created if "
                         f"missing.")
    index = tmp_path / "index"
    index.mkdir()
    (index / "CURRENT").write_bytes(b"\xff\xfe\x00junk")
    result = run("search", "Kim", index_dir=index)
    assert result.exit_code == 1 and "Traceback" not in result.output
    [error] = lines(result.stderr)
    assert "CURRENT file does not name a version" in error and "rag ingest --rebuild" in error


def test_ingest_reports_links_pipes_and_missing_paths_with_a_reason(tmp_path, session_models):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe.txt")
    result = run("ingest", str(folder), str(tmp_path / "nowhere"), index_dir=tmp_path / "index")
    assert result.exit_code == 1, result.output  # nothing could be ingested
    out = result.stdout
    assert "passwd.txt (a symbolic link to /etc/passwd, outside" in out
    assert "pipe.txt (a named pipe, not a regular file)" in out
    assert "nowhere (no such file or folder)" in out


def test_a_bad_option_value_names_the_option(seed_settings):
    result = CliRunner().invoke(cli, ["search", "Kim", "-k", "many"],
                                env={"RAG_INDEX_DIR": str(seed_settings.index_dir)})
    assert result.exit_code == 2 and result.stdout == ""
    errors = [ln for ln in lines(result.stderr) if ln.startswith("Error")]
    assert len(errors) == 1 and "'-k'" in errors[0] and "many" in errors[0], result.stderr


def test_a_bad_setting_in_the_environment_exits_1_with_one_error_line(seed_settings):
    result = CliRunner().invoke(cli, ["search", "Kim"],
                                env={"RAG_INDEX_DIR": str(seed_settings.index_dir),
                                     "RAG_TOP_K": "five"})
    assert result.exit_code == 1 and result.stdout == ""
    [error] = lines(result.stderr)
    assert error.startswith("Error: Setting 'top_k' must be") and "'five'" in error


# ---------------------------------------------------------------------------------- untrusted text


def test_article_text_and_file_names_cannot_drive_the_terminal(tmp_path, session_models):
    """An article with terminal escape sequences, a file name with a bidi override and one
    with a line break: shown as text, one line each, nothing that a terminal would obey."""
    folder = tmp_path / "articles"
    folder.mkdir()
    hostile = ("Harbour news\n\nThe lighthouse keeper of Quillon said the lamp was repaired"
               "\x1b]0;PWNED\x07\x1b[2J on Monday after a storm damaged the lens.\n")
    (folder / "news\u202efdp.txt").write_text(hostile, encoding="utf-8")
    (folder / "two\nlines.txt").write_text(hostile.replace("Quillon", "Marlow"),
                                           encoding="utf-8")
    index = tmp_path / "index"
    outputs = [run("ingest", str(folder), index_dir=index).output,
               run("search", "Quillon lighthouse lamp", "-k", "2", index_dir=index).output]
    for output in outputs:
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    ingested = [ln for ln in lines(outputs[0]) if "added /" in ln]  # after progress bars
    assert len(ingested) == 2 and any("two lines.txt" in ln for ln in ingested), outputs[0]
    assert "lamp was repaired]0;PWNED[2J on Monday" in outputs[1]  # the text, inert

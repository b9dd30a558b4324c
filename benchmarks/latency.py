"""End-to-end answer latency on the seed question set, against a naive baseline, warm vs cold.

    .venv/bin/python benchmarks/latency.py --limit 12 --llm qwen2.5-coder-0.5b-instruct-q4_k_m \
        --json reports/latency_0.5b.json
    .venv/bin/python benchmarks/latency.py --json reports/latency.json      # the default model

Everything runs in one process over a temporary index of seeds/ (one LLM, one embedder).
Questions keep the set's order (Arabic and English alternate, so a run stopped early still
has both). The system prompt differs per language and a user's questions normally follow
one in the same language, so when the language changes one throwaway call first puts that
language's system prompt in llama.cpp's cache. For every question, in this order:

1. pipeline   `Assistant.stream` as the app runs it: hybrid retrieval, evidence sentences,
              the answer prompt, streamed answer, checked citations. llama.cpp's cache
              holds the previous question's prompt, so the shared system prefix is reused.
2. baseline   the naive RAG prompt: the top-5 retrieved chunks whole (no evidence
              selection), the same prompt files (prompts/answer.*, prompts/question.*), the
              same model and settings; a follow-up is condensed the same way, so the only
              difference is what the prompt holds.
3. cold       `llm.llama.reset()` (an empty KV cache), then the pipeline's prompt again,
              one token: first-token time with nothing reused (--no-cold skips it).

Accuracy: an answerable question is correct when the answer is not a refusal and
`rag.evaluate.matches` finds one of its answers; an unanswerable one when it is refused.
Time to first token (TTFT) is retrieval + condensing (follow-ups) + the model's first token,
as `Answer.timings["first_token"]` counts it; tokens/s is the decode rate of the answer.
The JSON is rewritten after every question, so a long run can be stopped early.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant
from rag.chat_model import Generation
from rag.config import Settings
from rag.embedder import Embedder
from rag.evaluate import Item, load_questions, matches, sample
from rag.generator import NOT_FOUND
from rag.ingest import Ingestor
from rag.llm import load_chat_model
from rag.prompts import load_prompt
from rag.types import Answer, Evidence


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


class Recorder:
    """Wraps the LLM: keeps each call's messages and llama.cpp's own counters for it
    (prompt tokens actually evaluated, i.e. not reused from the cache; decode time)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[list[dict[str, str]], Generation]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _perf(self, reset: bool = False) -> dict[str, float]:
        llama = getattr(self.inner, "llama", None)
        if llama is None:  # a remote model: no counters
            return {}
        import llama_cpp

        if reset:
            llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
            return {}
        d = llama_cpp.llama_perf_context(llama._ctx.ctx)
        return {"prompt_evaluated": d.n_p_eval, "prompt_eval_ms": d.t_p_eval_ms,
                "decoded": d.n_eval, "decode_ms": d.t_eval_ms}

    def stream(self, messages: list[dict[str, str]], max_tokens: int, temperature: float = 0.0,
               timeout_s: float = 120.0, cancel=None, info: Generation | None = None,
               seed: int | None = None) -> Iterator[str]:
        info = info if info is not None else Generation()
        self._perf(reset=True)
        yield from self.inner.stream(messages, max_tokens, temperature, timeout_s, cancel, info,
                                     seed)
        info.timings.update(self._perf())
        self.calls.append((messages, info))

    def complete(self, messages: list[dict[str, str]], max_tokens: int, **kwargs) -> str:
        return "".join(self.stream(messages, max_tokens, **kwargs))


def decode_rate(info: Generation) -> float | None:
    """Tokens/s of the answer after its first token (llama.cpp's own decode time if known)."""
    if info.timings.get("decode_ms"):
        return info.timings["decoded"] / info.timings["decode_ms"] * 1000
    if info.first_token_s is not None and info.completion_tokens > 1 \
            and info.total_s > info.first_token_s:
        return (info.completion_tokens - 1) / (info.total_s - info.first_token_s)
    return None


def correct(item: Item, text: str, refused: bool) -> bool:
    return (not item.answerable and refused) or \
        (item.answerable and not refused and matches(text, item.answers))


def run_pipeline(assistant: Assistant, llm: Recorder, item: Item) -> dict[str, Any]:
    calls_before = len(llm.calls)
    started = time.perf_counter()
    first_shown = None
    answer: Answer | None = None
    for piece in assistant.stream(item.question, item.history):
        if isinstance(piece, Answer):
            answer = piece
        elif first_shown is None and piece:
            first_shown = time.perf_counter() - started
    assert answer is not None
    t = answer.timings
    new_calls = llm.calls[calls_before:]
    row: dict[str, Any] = {
        "retrieval": t.get("retrieval"), "condense": t.get("condense"),
        "prompt_tokens": t.get("prompt_tokens"), "ttft": t.get("first_token"),
        "first_shown": first_shown, "total": t.get("total"),
        "answer_tokens": t.get("answer_tokens"), "refused": answer.refused,
        "correct": correct(item, answer.text, answer.refused), "text": answer.text,
        "citations": len(answer.citations), "llm_calls": len(new_calls)}
    answered_by_llm = "prompt_tokens" in t and new_calls
    if answered_by_llm:
        messages, info = new_calls[-1]
        row.update(llm_first_token=info.first_token_s, tokens_per_s=decode_rate(info),
                   prompt_evaluated=info.timings.get("prompt_evaluated"))
        row["_messages"] = messages
    return row


def run_baseline(assistant: Assistant, llm: Recorder, item: Item) -> dict[str, Any]:
    """Naive RAG: the top-k chunks whole, the same prompt files, model and settings."""
    s = assistant.settings
    started = time.perf_counter()
    timings: dict[str, float] = {}
    standalone = item.question
    if item.history:
        t = time.perf_counter()
        standalone = assistant.rewriter.rewrite(item.question, item.history, item.lang)
        timings["condense"] = time.perf_counter() - t
    t = time.perf_counter()
    passages = assistant.retriever().search(standalone, s.top_k)
    retrieval = time.perf_counter() - t
    # Whole chunks as the numbered sources, within the same context-window rule.
    chunks = [Evidence(number=i, text=p.chunk.text, start=p.chunk.start, end=p.chunk.end,
                       passage=p) for i, p in enumerate(passages, start=1)]
    prompt = assistant.prompt_builder.build(standalone, item.lang, chunks)
    messages, used, passages = prompt.messages, prompt.tokens, prompt.evidence
    info = Generation()
    for _ in llm.stream(messages, s.max_answer_tokens, s.temperature, s.generation_timeout_s,
                        None, info):
        pass
    total = time.perf_counter() - started
    refused = NOT_FOUND in info.text or not info.text.strip()
    return {"retrieval": retrieval, "condense": timings.get("condense"),
            "prompt_tokens": used, "chunks": len(passages),
            "ttft": (info.first_token_s or info.total_s) + retrieval
            + timings.get("condense", 0.0),
            "total": total, "answer_tokens": info.completion_tokens, "refused": refused,
            "correct": correct(item, info.text, refused), "text": info.text,
            "llm_first_token": info.first_token_s, "tokens_per_s": decode_rate(info),
            "prompt_evaluated": info.timings.get("prompt_evaluated")}


def run_cold(llm: Recorder, messages: list[dict[str, str]]) -> dict[str, Any]:
    llm.inner.llama.reset()
    info = Generation()
    for _ in llm.stream(messages, 1, info=info):
        pass
    return {"llm_first_token": info.first_token_s or info.total_s,
            "prompt_evaluated": info.timings.get("prompt_evaluated")}


def prime(llm: Recorder, settings: Settings, lang: str) -> None:
    """One throwaway call whose prompt starts with `lang`'s system prompt."""
    system = load_prompt(settings.prompts_dir, "answer", lang)
    user = load_prompt(settings.prompts_dir, "question", lang).format(evidence="", question="")
    for _ in llm.stream([{"role": "system", "content": system},
                         {"role": "user", "content": user}], 1):
        pass


# ------------------------------------------------------------------ summaries


def pct(values: list[float], p: float) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.percentile(values, p)) if values else None


def summarize(rows: list[dict[str, Any]], arm: str) -> dict[str, Any]:
    runs = [r[arm] for r in rows if arm in r]
    out: dict[str, Any] = {"n": len(runs)}
    for key in ("retrieval", "prompt_tokens", "ttft", "first_shown", "llm_first_token",
                "tokens_per_s", "total", "prompt_evaluated"):
        values = [r.get(key) for r in runs]
        out[key] = {"p50": pct(values, 50), "p95": pct(values, 95)}
    out["accuracy"] = sum(r["correct"] for r in runs) / len(runs) if runs else None
    out["correct"] = sum(r["correct"] for r in runs)
    return out


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    if unit == "tok":
        return f"{value:.0f}"
    if unit == "rate":
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_tables(report: dict[str, Any]) -> None:
    rows = report["questions"]
    langs = sorted({r["lang"] for r in rows})
    print(f"\nmodel {report['llm']}; {len(rows)} questions; load average "
          f"{report['load_at_start']} -> {report.get('load_at_end', load_average())}")
    print("\npipeline (Assistant.stream), p50 / p95")
    print(f"{'lang':<5} {'n':>3} {'retrieval s':>13} {'prompt tok':>11} {'TTFT s':>12} "
          f"{'tok/s':>11} {'total s':>12} {'accuracy':>9}")
    for lang in [*langs, "all"]:
        s = summarize([r for r in rows if lang in ("all", r["lang"])], "pipeline")
        if not s["n"]:
            continue

        def cell(key: str, unit: str = "s", s: dict = s) -> str:
            return f"{fmt(s[key]['p50'], unit)}/{fmt(s[key]['p95'], unit)}"
        print(f"{lang:<5} {s['n']:>3} {cell('retrieval'):>13} {cell('prompt_tokens', 'tok'):>11} "
              f"{cell('ttft'):>12} {cell('tokens_per_s', 'rate'):>11} {cell('total'):>12} "
              f"{s['correct']:>3}/{s['n']:<5}")

    both = [r for r in rows if "baseline" in r]
    if both:
        print("\nnaive baseline (top-5 whole chunks) vs pipeline, same process and model")
        print(f"{'lang':<5} {'arm':<9} {'n':>3} {'prompt tok p50':>15} {'TTFT p50 s':>11} "
              f"{'TTFT p95 s':>11} {'total p50 s':>12} {'accuracy':>9}")
        for lang in [*langs, "all"]:
            subset = [r for r in both if lang in ("all", r["lang"])]
            for arm in ("baseline", "pipeline"):
                s = summarize(subset, arm)
                print(f"{lang:<5} {arm:<9} {s['n']:>3} {fmt(s['prompt_tokens']['p50'], 'tok'):>15} "
                      f"{fmt(s['ttft']['p50']):>11} {fmt(s['ttft']['p95']):>11} "
                      f"{fmt(s['total']['p50']):>12} {s['correct']:>3}/{s['n']:<5}")
        c = report["summary"]["comparison"]
        print(f"TTFT ratio baseline/pipeline: p50s {fmt(c['ttft_ratio_of_p50s'])}x, "
              f"median per question {fmt(c['ttft_ratio_median'])}x; accuracy "
              f"{c['baseline_correct']}/{c['n']} baseline, {c['pipeline_correct']}/{c['n']} "
              f"pipeline")

    cold = [r for r in rows if "cold" in r and r["pipeline"].get("llm_first_token")]
    if cold:
        k = report["summary"]["kv_cache"]
        print("\nKV cache: the pipeline's prompt, model's first token only (no retrieval)")
        print(f"{'cache':<6} {'n':>3} {'first token p50 s':>18} {'p95 s':>7} "
              f"{'prompt tokens evaluated p50':>28}")
        for name in ("warm", "cold"):
            print(f"{name:<6} {k['n']:>3} {fmt(k[name]['p50']):>18} {fmt(k[name]['p95']):>7} "
                  f"{fmt(k[name + '_evaluated_p50'], 'tok'):>28}")
        print(f"cold/warm first-token ratio (median per question): {fmt(k['ratio_median'])}x")


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"pipeline": summarize(rows, "pipeline"),
                               "by_language": {lang: summarize([r for r in rows
                                                                if r["lang"] == lang],
                                                               "pipeline")
                                               for lang in sorted({r["lang"] for r in rows})}}
    both = [r for r in rows if "baseline" in r]
    if both:
        b, p = summarize(both, "baseline"), summarize(both, "pipeline")
        ratios = [r["baseline"]["ttft"] / r["pipeline"]["ttft"] for r in both
                  if r["pipeline"].get("ttft")]
        summary["baseline"] = b
        summary["comparison"] = {
            "n": len(both), "baseline_correct": b["correct"], "pipeline_correct": p["correct"],
            "ttft_ratio_of_p50s": (b["ttft"]["p50"] / p["ttft"]["p50"])
            if b["ttft"]["p50"] and p["ttft"]["p50"] else None,
            "ttft_ratio_median": pct(ratios, 50)}
    cold = [r for r in rows if "cold" in r and r["pipeline"].get("llm_first_token")]
    if cold:
        warm_t = [r["pipeline"]["llm_first_token"] for r in cold]
        cold_t = [r["cold"]["llm_first_token"] for r in cold]
        summary["kv_cache"] = {
            "n": len(cold), "warm": {"p50": pct(warm_t, 50), "p95": pct(warm_t, 95)},
            "cold": {"p50": pct(cold_t, 50), "p95": pct(cold_t, 95)},
            "warm_evaluated_p50": pct([r["pipeline"].get("prompt_evaluated") for r in cold], 50),
            "cold_evaluated_p50": pct([r["cold"].get("prompt_evaluated") for r in cold], 50),
            "ratio_median": pct([c / w for c, w in zip(cold_t, warm_t, strict=True) if w], 50)}
    return summary


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "tests/questions/seeds.jsonl")
    parser.add_argument("--limit", type=int, help="only this many questions")
    parser.add_argument("--sample-seed", type=int,
                        help="with --limit: a reproducible random sample instead of the first")
    parser.add_argument("--llm", help="the answer model (default: the settings' llm)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-cache runs")
    parser.add_argument("--cold-every", type=int, default=1,
                        help="the cold-cache run on every n-th question only")
    parser.add_argument("--max-minutes", type=float,
                        help="stop after the question that passes this time (results kept)")
    parser.add_argument("--json", type=Path, default=ROOT / "reports/latency.json")
    args = parser.parse_args()

    settings = Settings.load()
    if args.llm:
        settings = settings.with_values({"llm": args.llm})
    items = sample(load_questions(args.questions), args.limit, args.sample_seed)

    report: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%d %H:%M"), "llm": settings.llm_endpoint or settings.llm,
        "embedding_model": settings.embedding_model, "cpus": os.cpu_count(),
        "load_at_start": load_average(), "questions": []}

    def save() -> None:
        report["summary"] = overall(report["questions"])
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))

    with tempfile.TemporaryDirectory() as tmp:
        settings = settings.with_values({"index_dir": f"{tmp}/index"})
        t = time.perf_counter()
        embedder = Embedder.from_settings(settings)
        Ingestor(settings, embedder).ingest([ROOT / "seeds"])
        report["setup_s"] = {"embedder_and_index": time.perf_counter() - t}
        t = time.perf_counter()
        inner = load_chat_model(settings)  # a RemoteLLM when settings.llm_endpoint is set
        report["setup_s"]["llm"] = time.perf_counter() - t
        llm = Recorder(inner)
        if getattr(inner, "llama", None) is not None:
            report["llm_threads"] = {"n_threads": inner.llama.n_threads,
                                     "n_threads_batch": inner.llama.n_threads_batch}
        assistant = Assistant(settings, embedder=embedder, llm=llm)  # type: ignore[arg-type]
        assistant.search("warm up", 1)
        cold_possible = getattr(inner, "llama", None) is not None and not args.no_cold
        print(f"{len(items)} questions, model {report['llm']}, load {load_average()}",
              flush=True)
        lang = None
        run_started = time.perf_counter()
        for n, item in enumerate(items, start=1):
            if item.lang != lang:
                lang = item.lang
                prime(llm, settings, lang)
            row: dict[str, Any] = {"id": item.id, "lang": item.lang,
                                   "answerable": item.answerable,
                                   "follow_up": bool(item.history)}
            row["pipeline"] = run_pipeline(assistant, llm, item)
            messages = row["pipeline"].pop("_messages", None)
            if not args.no_baseline:
                row["baseline"] = run_baseline(assistant, llm, item)
            if cold_possible and messages and (n - 1) % args.cold_every == 0:
                row["cold"] = run_cold(llm, messages)
            row["load"] = load_average()
            report["questions"].append(row)
            p, b = row["pipeline"], row.get("baseline")
            print(f"[{n}/{len(items)}] {item.id:<22} pipeline ttft {fmt(p['ttft'])}s total "
                  f"{fmt(p['total'])}s {'ok ' if p['correct'] else 'BAD'}"
                  + (f" | baseline ttft {fmt(b['ttft'])}s total {fmt(b['total'])}s "
                     f"{'ok ' if b['correct'] else 'BAD'}" if b else "")
                  + (f" | cold first token {fmt(row['cold']['llm_first_token'])}s"
                     if "cold" in row else "") + f" | load {row['load']}", flush=True)
            save()
            if args.max_minutes and time.perf_counter() - run_started > args.max_minutes * 60:
                print(f"stopping after {n} questions (--max-minutes {args.max_minutes})")
                break
    report["load_at_end"] = load_average()
    save()
    print_tables(report)
    print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()

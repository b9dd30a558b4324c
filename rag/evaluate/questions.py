"""Question sets: reading and validating them, and sampling.

Question sets are JSONL (one JSON object a line; blank lines and lines starting with "#" are
skipped) or, when PyYAML is installed, YAML (a list of the same objects). Fields:

    id          unique string
    question    the question as a user would type it
    lang        "ar" or "en"; default: detected from the question
    answers     acceptable answers: each a string, or a list of strings that must ALL appear
                (["Kirby", ["Kim", "Putin"]] accepts "Kirby", or an answer naming Kim and Putin)
    quotes      optional: strings a correct cited sentence contains, in the articles' language
                (for English questions over Arabic articles); default: the answers' strings
    sources     expected documents: a doc id, a file name (any document of that file) or a
                doc id prefix "file#n" (that one document, e.g. a "read also" teaser)
    answerable  default true; false means the right behaviour is to refuse
    tags        free labels, e.g. ["ar", "date"]
    history     follow-ups: earlier [question, answer] pairs of the conversation
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import RagError
from ..language import SUPPORTED, detect_language
from .matching import match_tokens


class EvaluationError(RagError):
    """A question set or report cannot be read; the message names the line and the field."""


@dataclass
class Item:
    id: str
    question: str
    lang: str
    answers: list[list[str]]  # alternatives, each a list of parts that must all appear
    sources: list[str] = field(default_factory=list)
    answerable: bool = True
    tags: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)

    @property
    def quote_strings(self) -> list[str]:
        return self.quotes or [part for alternative in self.answers for part in alternative]


_FIELDS = {f.name for f in fields(Item)}


def load_questions(path: str | Path) -> list[Item]:
    """Read and validate a JSONL or YAML question set."""
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"Question set {path} does not exist.")
    raws = _yaml_objects(path) if path.suffix in (".yaml", ".yml") else _jsonl_objects(path)
    items: list[Item] = []
    seen: dict[str, str] = {}
    for where, raw in raws:
        item = parse_item(raw, where)
        if item.id in seen:
            raise EvaluationError(f"{where}: duplicate id {item.id!r} (first at {seen[item.id]}).")
        seen[item.id] = where
        items.append(item)
    if not items:
        raise EvaluationError(f"Question set {path} has no questions.")
    return items


def _jsonl_objects(path: Path) -> list[tuple[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            out.append((f"{path.name}:{n}", json.loads(line)))
        except json.JSONDecodeError as e:
            raise EvaluationError(f"{path.name}:{n}: not valid JSON ({e.msg}, column {e.colno}).")
    return out


def _yaml_objects(path: Path) -> list[tuple[str, Any]]:
    try:
        import yaml
    except ImportError:
        raise EvaluationError("Reading YAML needs PyYAML (pip install pyyaml); "
                              "or write the questions as JSONL.") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise EvaluationError(f"{path.name}: not valid YAML: {e}") from None
    if isinstance(data, dict) and "questions" in data:
        data = data["questions"]
    if not isinstance(data, list):
        raise EvaluationError(f"{path.name}: expected a list of questions.")
    return [(f"{path.name} item {i}", raw) for i, raw in enumerate(data, start=1)]


def parse_item(raw: Any, where: str) -> Item:
    """One validated item; `where` ("file:line") starts every error message."""
    def fail(message: str) -> EvaluationError:
        return EvaluationError(f"{where}: {message}")

    if not isinstance(raw, dict):
        raise fail("expected an object with id, question, answers, ...")
    if unknown := sorted(set(raw) - _FIELDS):
        raise fail(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))}).")
    for name in ("id", "question"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise fail(f"field {name!r} must be a non-empty string.")
    lang = raw.get("lang", detect_language(raw["question"]))
    if lang not in SUPPORTED:
        got = f"got {lang!r}" if "lang" in raw else f"the question looks like {lang!r}"
        raise fail(f"field 'lang' must be one of {', '.join(SUPPORTED)} ({got}).")
    answerable = raw.get("answerable", True)
    if not isinstance(answerable, bool):
        raise fail("field 'answerable' must be true or false.")
    answers = [[part] if isinstance(part, str) else part for part in raw.get("answers", [])] \
        if isinstance(raw.get("answers", []), list) else None
    if answers is None or not all(_strings(a) and a for a in answers):
        raise fail("field 'answers' must be a list of strings or lists of strings.")
    if answerable and not answers:
        raise fail("field 'answers' is required for an answerable question.")
    for part in (p for a in answers for p in a):
        if not match_tokens(part):
            raise fail(f"answer {part!r} has no letters or digits to match.")
    for name in ("sources", "tags", "quotes"):
        if not _strings(raw.get(name, [])):
            raise fail(f"field {name!r} must be a list of strings.")
    history = raw.get("history", [])
    if not isinstance(history, list) or not all(
            isinstance(t, list | tuple) and len(t) == 2 and _strings(list(t)) for t in history):
        raise fail("field 'history' must be a list of [question, answer] pairs.")
    return Item(id=raw["id"], question=raw["question"], lang=lang, answers=answers,
                sources=list(raw.get("sources", [])), answerable=answerable,
                tags=list(raw.get("tags", [])), history=[(q, a) for q, a in history],
                quotes=list(raw.get("quotes", [])))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def sample(items: list[Item], limit: int | None, seed: int | None) -> list[Item]:
    """The first `limit` items, or with a seed a reproducible random sample in set order."""
    if limit is None or limit >= len(items):
        return items
    if seed is None:
        return items[:limit]
    chosen = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in chosen]

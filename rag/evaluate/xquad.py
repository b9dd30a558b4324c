"""XQuAD as a question set: its Arabic paragraphs as a corpus, its questions in either language."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from .matching import match_tokens
from .questions import EvaluationError, Item, load_questions, sample

if TYPE_CHECKING:
    from ..assistant import Assistant
    from ..types import Progress

log = logging.getLogger(__name__)

XQUAD_SETS = {"xquad-ar": "ar", "xquad-en": "en"}
# Thresholds are fitted on one half of XQuAD's articles and reported on the other, so that no
# figure is measured on what was fitted: "xquad-en:cal", "xquad-en:report".
HALVES = {"cal": 0, "report": 1}  # article index parity


def is_xquad(spec: str) -> bool:
    """Whether a question-set name is XQuAD (whole or a half), which has its own index."""
    return spec.partition(":")[0] in XQUAD_SETS


def xquad_file_name(article: int, paragraph: int) -> str:
    return f"xquad_{article:02d}_{paragraph:02d}.txt"


def _xquad(folder: str | Path, lang: str) -> list[dict[str, Any]]:
    path = Path(folder) / f"xquad.{lang}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as e:
        raise EvaluationError(f"Cannot read XQuAD from {path}: {e}. Pass --xquad-dir.") from e


def load_xquad(folder: str | Path, lang: str, limit: int | None = None,
               sample_seed: int | None = 0, half: str = "") -> list[Item]:
    """XQuAD questions in `lang` over the Arabic paragraphs (see `write_xquad_corpus`).

    English questions expect the English answer texts; a correct citation quotes the Arabic
    paragraph, so their quote strings are the Arabic answers of the same question id.
    """
    english = {qa["id"]: qa for article in _xquad(folder, "en")
               for p in article["paragraphs"] for qa in p["qas"]} if lang == "en" else {}
    items = []
    for a, article in enumerate(_xquad(folder, "ar")):
        if half and a % 2 != HALVES[half]:
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                arabic = _answer_texts(qa)
                asked = english[qa["id"]] if lang == "en" else qa
                items.append(Item(id=f"{qa['id']}-{lang}", question=asked["question"], lang=lang,
                                  answers=[[t] for t in _answer_texts(asked)],
                                  sources=[xquad_file_name(a, p)], tags=[lang, "xquad"],
                                  quotes=arabic if lang == "en" else []))
    return sample(items, limit, sample_seed)


def _answer_texts(qa: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(x["text"].strip() for x in qa["answers"]
                              if match_tokens(x["text"])))


def write_xquad_corpus(folder: str | Path, out_dir: str | Path) -> Path:
    """The 240 Arabic XQuAD paragraphs as one article file each, ready to ingest.

    The first line is a neutral title: the Wikipedia article titles are English and would
    give English questions a keyword match that real Arabic news titles do not offer.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for a, article in enumerate(_xquad(folder, "ar")):
        for p, paragraph in enumerate(article["paragraphs"]):
            path = out / xquad_file_name(a, p)
            text = f"XQuAD {a:02d}-{p:02d}\n\n{paragraph['context'].strip()}\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
    return out


def xquad_settings(settings: Settings) -> Settings:
    """Settings whose index is the XQuAD one, next to the main index (index-xquad/index)."""
    base = settings.index_dir.parent / f"{settings.index_dir.name}-xquad"
    return settings.with_values({"index_dir": base / "index"})


def ingest_xquad(assistant: Assistant, folder: str | Path, progress: Progress | None = None) -> None:
    """Write the paragraphs next to the XQuAD index and ingest them (unchanged files: no-op)."""
    corpus = write_xquad_corpus(folder, assistant.settings.index_dir.parent / "corpus")
    report = assistant.ingest([corpus], prune=True, progress=progress)
    log.info("XQuAD corpus: %s", report.summary())


def load_question_set(spec: str, xquad_dir: str | Path, limit: int | None = None,
                      sample_seed: int | None = None) -> tuple[str, list[Item]]:
    """(set name, items) for a file path or "xquad-ar" / "xquad-en", whole or one half
    ("xquad-ar:cal", "xquad-en:report")."""
    name, _, half = spec.partition(":")
    if name in XQUAD_SETS:
        if half and half not in HALVES:
            raise EvaluationError(f"Unknown XQuAD half {half!r} in {spec!r}: use "
                                  f"{name}:cal or {name}:report.")
        seed = 0 if sample_seed is None else sample_seed  # XQuAD's order is by topic
        return spec.replace(":", "-"), load_xquad(xquad_dir, XQUAD_SETS[name], limit, seed,
                                                   half)
    return Path(spec).stem, sample(load_questions(spec), limit, sample_seed)

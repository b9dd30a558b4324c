"""All settings in one place: documented defaults, overridable by a TOML file and RAG_* variables.

Precedence (last wins): the defaults below, then `rag.toml` in the working directory (or the
file named by RAG_CONFIG), then environment variables named RAG_<FIELD> in upper case,
e.g. RAG_LLM=/models/my.gguf or RAG_TOP_K=8.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

FUSIONS = ("convex", "rrf")
VECTOR_STORES = ("faiss", "milvus")


def _default_model_dir() -> Path:
    # Outside the checkout so that fresh clones (and CI) reuse the assembled models.
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag" / "models"


@dataclass(frozen=True)
class Settings:
    # --- where things live
    index_dir: Path = Path("index")  # the persisted index (build output, not committed)
    # Where vectors, BM25 and chunk texts live: "faiss" (versions under index_dir) or
    # "milvus" (docs/scaling.md: beyond one machine). milvus_uri is a local file for Milvus
    # Lite, in-process (empty: <index_dir>/milvus.db), or http://host:19530 for a server or
    # cluster; milvus_collection prefixes its collections' names.
    vector_store: str = "faiss"
    milvus_uri: str = ""
    milvus_collection: str = "rag"
    model_dir: Path = field(default_factory=_default_model_dir)  # assembled models
    prompts_dir: Path = Path(__file__).resolve().parent.parent / "prompts"

    # --- models: a known name (see rag.models.KNOWN_MODELS), a local path, or for the LLM
    # "hf:<repo>/<file.gguf>" (needs a network) or an OpenAI-compatible server URL in llm_endpoint.
    llm: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    embedding_model: str = "multilingual-e5-small"
    # "auto": bfloat16 where the CPU computes it natively (about 1.8x faster ingestion here,
    # vectors within cosine 0.99999 of float32), else float32. Or "bf16" / "fp32".
    embedding_precision: str = "auto"
    verify_hashes: bool = True  # refuse a model whose sha256 does not match its spec
    llm_endpoint: str = ""  # e.g. http://127.0.0.1:8080/v1; empty means the in-process model

    # --- chunking (measured in the embedding model's tokens)
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 24

    # --- retrieval
    top_k: int = 5  # passages returned by search
    candidates: int = 30  # per retriever, before fusion
    # "convex": min-max normalized scores mixed dense_weight to the rest; "rrf": reciprocal
    # rank fusion with rrf_k. XQuAD AR->AR recall@1: convex 0.915 with dense_weight 0.6 (0.5
    # and 0.6 tie), RRF (k=60) 0.900, dense alone 0.882 (benchmarks/xquad_retrieval.py).
    fusion: str = "convex"
    dense_weight: float = 0.6
    rrf_k: int = 60
    # A query that is not Arabic is matched against the Arabic sentences of its top
    # sentence_depth passages too: e5 pairs an English question with one Arabic sentence better
    # than with a 160-token chunk. Each passage's cosine is mixed with its best sentence's at
    # sentence_weight x the query's non-Arabic share (rag/rerank.py). XQuAD EN->AR, 400
    # questions: recall@1 0.755 -> 0.800, recall@5 0.945 -> 0.960 (reports/
    # xquad_retrieval_sentences.json); weights 0.3 / 0.7 did less. Mixed into Arabic queries it
    # cost a little (dense recall@1 0.897 -> 0.890), so they keep the hybrid order.
    sentence_weight: float = 0.5
    sentence_depth: int = 10
    # vectors; above this an HNSW index replaces exact search. Flat search costs ~60 ms per
    # million vectors here (reports/retrieval_scale.json): 400k keeps it under 25 ms.
    approximate_above: int = 400_000
    # Segments an index version may list (rag/store.py): one more, and an ingest merges all
    # but the largest into its new segment. Each search visits every segment (~0.1 ms each at
    # seed size, reports/index_growth.json); merging re-tokenizes only the small ones.
    max_segments: int = 8
    # Sentences put in the answering prompt; each is ~55 prompt tokens (~0.7 s) for the LLM.
    # On the seed set 3 passed as many questions as 6 (28/64) with first token 4.2 s, not 6.4.
    # So at least evidence_min_sentences (3, as before: an Arabic question's first three are
    # unchanged), then more only while they score within evidence_margin of the best one, at
    # most evidence_sentences. Answer-bearing sentence recall, XQuAD calibration half -> report
    # half (benchmarks/xquad_retrieval.py, reports/xquad_evidence_halves.txt), with ~0.7 more
    # sentences than the fixed 3: AR 0.851 -> 0.910, report 0.926 -> 0.938; EN 0.770 -> 0.843,
    # report 0.808 -> 0.881. A fixed 4 did less for more (AR 0.876, EN 0.850 on cal). The
    # margin was the largest keeping the mean under 4 sentences on cal; 0.10 gives 0.917 /
    # 0.858 with ~4.2. evidence_min_sentences = 2 costs what 3 fixed sentences did and gave
    # AR 0.902 / EN 0.817 on cal, but AR 0.922 (from 0.926) on the report half.
    # Arabic questions keep evidence_min_sentences: on the seed set the margin's extra
    # sentences cost Arabic answers (right 0.654 -> 0.615, precision 0.895 -> 0.842, an
    # unanswerable question answered) for +0.012 XQuAD recall; English ones kept their answers
    # and gained one useful outcome (reports/seeds_2026-11-30_*.md in the #14 note).
    evidence_sentences: int = 8
    evidence_min_sentences: int = 3
    evidence_margin: float = 0.08
    # Each sentence is scored dense similarity x weight + question-word overlap x weight + the
    # passage's 1/rank x weight (tuned on XQuAD-ar) + for a question that is not Arabic, its
    # token-level match x evidence_token_weight x the question's non-Arabic share
    # (rag/evidence.py). XQuAD EN->AR, fixed 3 sentences: recall 0.770 -> 0.807 on cal
    # (weights 1 to 3 did about as well; at 2 one margin suits both languages' scores), 0.808
    # -> 0.841 on the report half; ~250 ms more for a new question's sentences (a second pass
    # of e5 over them). It did not help Arabic questions (cal 0.851 -> 0.856, report 0.926
    # -> 0.912), which skip it.
    # All evidence together stays under evidence_max_tokens e5 tokens.
    evidence_dense_weight: float = 1.0
    evidence_lexical_weight: float = 0.2
    evidence_rank_weight: float = 0.05
    evidence_token_weight: float = 2.0
    evidence_max_tokens: int = 400

    # --- generation
    n_ctx: int = 2048
    n_threads: int = 0  # 0 = all cores
    # States of recent prompts kept in RAM (~10 MB each), so that the Arabic and the English
    # system prompts both stay read. Seed set back to back: first token p50 4.71 s without
    # (RAG_PROMPT_CACHE_MB=0), 2.85 s with; same 31/64 passed.
    prompt_cache_mb: int = 64
    max_answer_tokens: int = 200
    temperature: float = 0.0
    seed: int = 0
    generation_timeout_s: float = 120.0
    max_question_chars: int = 2000
    # A draft is shown only if the claim verifier finds it supported by a sentence it cites:
    # its fitted weights and thresholds (benchmarks/fit_verifier.py; reports/verifier.json).
    verifier_model: Path = Path(__file__).resolve().parent / "verifier.json"
    # Drafts per question: the greedy one streams; while none is verified, sampled ones
    # (draft_temperature, seeds seed+1, seed+2, ...) are tried. Each costs ~1-2 s here.
    drafts: int = 1
    draft_temperature: float = 0.7
    # English questions over Arabic evidence (rag/crosslingual.py): the model copies the Arabic
    # words that answer, then says them in English; while none agrees with the Arabic words,
    # up to `renderings` English renderings (greedy, then sampled at draft_temperature), each
    # ~0.5-1 s. Measured with 4 on the seed set and XQuAD-en's report half: every English
    # answer shown came from the model's English turn or from a rule, none from a sampled
    # rendering (nor, on the seed harness's 13 found copies, from the greedy one) — so 1.
    renderings: int = 1
    # Below this cosine between the question and its best passage the articles hold nothing
    # relevant: the answer is "not found" without asking the model. Else, when no draft is
    # verified, the unverified_passages most relevant evidence sentences are quoted instead.
    # By the question's language (English questions over Arabic text score lower); set just
    # under every answerable question of XQuAD's calibration half (benchmarks/relevance_floor.py,
    # reports/relevance_floor.json): no answerable seed question falls under it, all 10 Arabic
    # and 6 of 10 English off-topic questions (tests/questions/offtopic.jsonl) do.
    relevance_floor_ar: float = 0.802
    relevance_floor_en: float = 0.743
    unverified_passages: int = 3

    # --- ingestion and app limits
    max_file_mb: int = 50  # larger files are rejected (per file, the rest still ingest)
    max_upload_mb: int = 20  # per file uploaded through the app
    # A file that would make more passages is refused unless `--allow-large` is given: a long
    # report makes a few hundred; a 48 MB text dump would make ~100,000 and embed for ~1 hour.
    max_chunks_per_file: int = 2000
    follow_symlinks: bool = False  # links in an ingested folder that lead out of it
    # How long an ingest or upload waits for another one to finish writing the index (it says
    # who it waits for meanwhile) before giving up with a message.
    lock_wait_seconds: float = 600.0

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> Settings:
        """Defaults, then the TOML file, then RAG_* environment variables, then `overrides`."""
        values: dict[str, Any] = {}
        path = Path(config_file or os.environ.get("RAG_CONFIG", "rag.toml"))
        if path.is_file():
            try:
                values.update(tomllib.loads(path.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
                raise ConfigError(f"Cannot read settings file {path}: {e}") from e
        elif config_file:
            raise ConfigError(f"Settings file {path} does not exist.")
        for f in fields(cls):
            env = os.environ.get(f"RAG_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update(overrides)
        return cls().with_values(values)

    def with_values(self, values: dict[str, Any]) -> Settings:
        """A copy with `values` applied, each converted to the field's type."""
        known = {f.name: f for f in fields(self)}
        converted: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ConfigError(
                    f"Unknown setting {name!r}. Known settings: {', '.join(sorted(known))}."
                )
            converted[name] = _convert(name, value, type(getattr(self, name)))
        if converted.get("fusion", self.fusion) not in FUSIONS:
            raise ConfigError(f"Setting 'fusion' must be one of {', '.join(FUSIONS)}, "
                              f"got {converted['fusion']!r}.")
        if converted.get("vector_store", self.vector_store) not in VECTOR_STORES:
            raise ConfigError(f"Setting 'vector_store' must be one of "
                              f"{', '.join(VECTOR_STORES)}, got {converted['vector_store']!r}.")
        return replace(self, **converted)

    @property
    def milvus_target(self) -> str:
        """milvus_uri, or the Milvus Lite file in index_dir when it is empty."""
        return self.milvus_uri or str(self.index_dir / "milvus.db")


def _convert(name: str, value: Any, kind: type) -> Any:
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() in {"1", "true", "yes", "on"}:
                return True
            if value.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if issubclass(kind, Path):
            return Path(value).expanduser()
        return kind(value)
    except (TypeError, ValueError) as e:
        kind_name = {"int": "whole number", "float": "number", "bool": "true/false value",
                     "str": "text", "Path": "path"}.get(kind.__name__, kind.__name__)
        raise ConfigError(f"Setting {name!r} must be a {kind_name}, got {value!r}.") from e

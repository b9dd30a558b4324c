"""Hybrid retrieval: fusion, dedupe, bad queries, empty index; one test with the real model."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from rag.config import Settings
from rag.errors import ConfigError, QueryError
from rag.language import arabic_share
from rag.lexical import LexicalIndex
from rag.retriever import Candidates, HybridRetriever, convex, rrf
from rag.segment import build_vector_index
from rag.store import IndexData
from rag.types import Chunk, Document

MODEL = Path.home() / ".cache/rag/models/multilingual-e5-small"


def make_index(texts: list[str], embedder, version: str = "v1") -> IndexData:
    documents, chunks = {}, []
    for i, text in enumerate(texts):
        doc = Document(doc_id=f"d{i}", source_file=f"f{i}.txt", title=f"t{i}", text=text)
        documents[doc.doc_id] = doc
        chunks.append(Chunk(chunk_id=i, doc_id=doc.doc_id, text=text, start=0, end=len(text),
                            paragraph=0))
    embeddings = embedder.embed_passages([c.text for c in chunks])
    return IndexData(manifest={}, documents=documents, chunks=chunks, embeddings=embeddings,
                     vectors=build_vector_index(embeddings, 1000), version=version)


CORPUS = [
    "أعلنت وزارة الصحة عن افتتاح مستشفى جديد في القاهرة",
    "فاز المنتخب المغربي على نظيره البرتغالي في كأس العالم",
    "ارتفعت أسعار النفط بعد قرار أوبك خفض الإنتاج",
    "التقى وزير الدفاع الروسي سيرغي شويغو بنظيره الصيني في موسكو",
    "هطلت أمطار غزيرة على مدينة الإسكندرية أمس",
    "أطلقت كوريا الشمالية صاروخا من بيونغ يانغ",
]


@pytest.fixture
def retriever() -> HybridRetriever:
    embedder = FakeEmbedder()
    return HybridRetriever.from_settings(make_index(CORPUS, embedder), embedder, Settings(top_k=3))


def test_finds_the_matching_chunk_with_both_scores(retriever):
    passages = retriever.search("أسعار النفط وأوبك")
    assert passages[0].chunk.chunk_id == 2
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert len(passages) <= 3
    assert passages[0].dense_score is not None and passages[0].lexical_score is not None
    assert all(a.score >= b.score for a, b in pairwise(passages))
    assert set(retriever.last_timings) == {"embed", "dense", "lexical", "fusion"}


def test_k_overrides_top_k(retriever):
    assert len(retriever.search("مدينة", k=6)) == 6  # the dense side always returns something
    assert retriever.search("مدينة", k=0) == []


def test_scores_are_none_where_a_retriever_missed(retriever):
    passages = retriever.search("النفط", k=6)
    lexical_rows = {p.chunk.chunk_id for p in passages if p.lexical_score is not None}
    assert lexical_rows == {2}
    assert all(p.dense_score is not None for p in passages)


def test_english_query_uses_dense_only(retriever):
    passages = retriever.search("oil prices", k=3)
    assert all(p.lexical_score is None for p in passages)
    assert arabic_share("oil prices") == 0.0 and arabic_share("🙂🙂") is None
    assert arabic_share("ما هي عاصمة مصر؟") == 1.0
    assert 0.0 < arabic_share("Who is شويغو?") < 1.0


def test_mixed_query_still_uses_bm25_for_its_arabic_name(retriever):
    passages = retriever.search("Who is شويجو?", k=3)
    found = [p for p in passages if p.chunk.chunk_id == 3]
    assert found and found[0].lexical_score is not None


def test_g_spelling_variant_is_found(retriever):
    passages = retriever.search("شويجو", k=1)
    assert passages[0].chunk.chunk_id == 3


def test_duplicate_texts_are_returned_once():
    embedder = FakeEmbedder()
    texts = [CORPUS[0], CORPUS[2], CORPUS[0] + " ", CORPUS[4]]  # d2 repeats d0's story
    r = HybridRetriever.from_settings(make_index(texts, embedder), embedder, Settings())
    passages = r.search("مستشفى جديد في القاهرة", k=4)
    assert len(passages) == 3
    assert len({p.chunk.chunk_id for p in passages}) == 3
    assert passages[0].chunk.chunk_id == 0  # the first copy wins the tie


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_refused(retriever, query):
    with pytest.raises(QueryError, match="empty"):
        retriever.search(query)


@pytest.mark.parametrize("query", ["🙂🚀🔥", "東京の天気", "Привет мир", "?!؟", "12345"])
def test_odd_queries_do_not_raise(retriever, query):
    passages = retriever.search(query)
    assert len(passages) <= 3
    assert all(p.lexical_score is None for p in passages)


def test_very_long_query_is_truncated_for_the_embedder(retriever):
    query = ("النفط " * 3000)[:10_000]
    passages = retriever.search(query)
    assert passages and passages[0].chunk.chunk_id == 2
    assert len(retriever.embedder.queries[-1]) <= 512 * 8


def test_empty_index_returns_nothing():
    embedder = FakeEmbedder()
    empty = IndexData(manifest={}, documents={}, chunks=[],
                      embeddings=np.zeros((0, embedder.dim), dtype=np.float32),
                      vectors=build_vector_index(np.zeros((0, embedder.dim), np.float32), 10))
    assert HybridRetriever.from_settings(empty, embedder, Settings()).search("النفط") == []


def test_lexical_index_edge_cases():
    assert LexicalIndex([]).search("النفط", 5) == []
    assert LexicalIndex(["", "  "]).search("النفط", 5) == []
    index = LexicalIndex(["النفط والغاز"])
    assert index.search("كوكب المريخ", 5) == []  # no known token
    assert index.search("🙂", 5) == []
    assert index.search("النفط", 0) == []


def test_bm25_of_an_index_without_a_saved_one_is_built_once(retriever):
    retriever.search("النفط")
    first = retriever.index.lexical
    retriever.search("شويغو")
    assert retriever.index.lexical is first
    retriever.index = make_index(CORPUS[:2], retriever.embedder, version="v2")
    assert retriever.index.lexical is not first and retriever.index.lexical.size == 2


def test_rrf_rewards_agreement():
    fused = rrf([([(1, 0.9), (2, 0.8)], 1.0), ([(2, 7.0), (3, 5.0)], 1.0)], rrf_k=60)
    assert max(fused, key=fused.get) == 2
    assert fused[1] == pytest.approx(1 / 61)


def test_convex_keeps_score_gaps():
    fused = convex([([(1, 0.90), (2, 0.89), (3, 0.50)], 0.6), ([(2, 9.0), (3, 8.9)], 0.4)])
    assert fused[1] == pytest.approx(0.6) and fused[3] == pytest.approx(0.0)
    assert max(fused, key=fused.get) == 2
    assert convex([([(5, 1.0)], 1.0), ([], 1.0)]) == {5: 1.0}


def test_rrf_fusion_option(retriever):
    retriever.fusion = "rrf"
    assert retriever.search("أسعار النفط وأوبك")[0].chunk.chunk_id == 2
    with pytest.raises(ConfigError, match="fusion"):
        Settings().with_values({"fusion": "magic"})
    rrf_settings = Settings().with_values({"fusion": "rrf"})
    assert HybridRetriever.from_settings(retriever.index, retriever.embedder,
                                         rrf_settings).fusion == "rrf"


def test_fuse_with_one_empty_list_keeps_dense_order(retriever):
    cands = Candidates(dense=[(4, 0.9), (1, 0.5)], lexical=[], arabic_share=0.0,
                       query_vector=np.zeros(64, dtype=np.float32))
    passages = retriever.fuse(cands, 5)
    assert [p.chunk.chunk_id for p in passages] == [4, 1]
    assert passages[0].dense_score == pytest.approx(0.9) and passages[0].lexical_score is None


# ---------------------------------------------------------------- with the real model

@pytest.mark.slow
@pytest.mark.skipif(not (MODEL / "rag-source.json").exists(),
                    reason=f"the converted e5 model is not at {MODEL} (run: rag models fetch)")
def test_real_model_arabic_and_english_questions():
    from rag.embedder import Embedder

    embedder = Embedder(str(MODEL))
    texts = CORPUS + [
        "قال الرئيس الفرنسي إيمانويل ماكرون إن بلاده ستزيد دعمها لأوكرانيا",
        "سجل مؤشر البورصة المصرية ارتفاعا بنسبة ٢٪ في تعاملات اليوم",
    ]
    r = HybridRetriever.from_settings(make_index(texts, embedder), embedder, Settings(top_k=3))
    assert r.search("ما الذي حدث لأسعار النفط؟")[0].chunk.chunk_id == 2
    assert r.search("Which team beat Portugal in the World Cup?")[0].chunk.chunk_id == 1
    assert r.search("Where did the North Korean missile launch from?")[0].chunk.chunk_id == 5
    assert r.search("من التقى وزير الدفاع الروسي شويجو؟")[0].chunk.chunk_id == 3
    assert r.search("🙂" * 50) is not None
    long = r.search("ماكرون أوكرانيا " * 2000)
    assert long[0].chunk.chunk_id == 6

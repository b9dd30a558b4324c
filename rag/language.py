"""Which language a question is in: it decides the answer language and the prompt."""

from __future__ import annotations

import re
import unicodedata

SUPPORTED = ("ar", "en")

# Words frequent in other Latin-script languages and rare in English questions.
_OTHER_LATIN = {
    "fr": {"le", "la", "les", "est", "quel", "quelle", "quels", "qui", "pourquoi", "des", "du",
           "une", "avec", "dans", "où", "quand", "comment", "sont", "été"},
    "es": {"el", "los", "las", "qué", "quién", "cuándo", "dónde", "por", "está", "fue", "una",
           "cómo", "del"},
    "de": {"der", "die", "das", "ist", "wer", "wann", "warum", "wie", "und", "nicht", "ein",
           "eine", "mit", "wo"},
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def script_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        script = name.split(" ")[0] if name else "UNKNOWN"
        if script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"):
            script = "CJK"
        counts[script] = counts.get(script, 0) + 1
    return counts


def arabic_share(text: str) -> float | None:
    """Share of the text's Arabic and Latin letters that are Arabic; None with neither (digits
    and symbols alone, "3" or "2019", belong to both scripts)."""
    counts = script_counts(text)
    arabic, latin = counts.get("ARABIC", 0), counts.get("LATIN", 0)
    return arabic / (arabic + latin) if arabic + latin else None


def detect_language(text: str) -> str:
    """'ar', 'en', or the code (or script) of an unsupported language such as 'fr' or 'cjk'.

    Mixed input goes by the script with most letters, so an Arabic question that names
    "NATO" is Arabic and an English one that quotes "بيونغ يانغ" is English.
    """
    counts = script_counts(text)
    if not counts:
        return "en"  # digits or symbols only: answer in English, the lingua franca
    script = max(counts, key=counts.__getitem__)
    if script == "ARABIC":
        return "ar"
    if script != "LATIN":
        return script.lower()
    words = {w.lower() for w in _WORD.findall(text)}
    best, hits = "en", 1  # another language must show at least two of its words
    for lang, vocab in _OTHER_LATIN.items():
        n = len(words & vocab)
        if n > hits:
            best, hits = lang, n
    return best


def is_rtl(language: str) -> bool:
    return language == "ar"

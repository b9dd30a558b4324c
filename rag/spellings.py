"""English spellings of names that the Arabic sentences write: "Yonhap" for يونهاب.

The 1.5B model transliterates Arabic names letter by letter: يونهاب as "Younihab", بيسكوف as
"Byskov", فاغنر as "Faganr". Their consonants agree with the Arabic, so the consonant skeleton
(rag.claims) accepts them, yet the spelling a reader would quote is wrong. A name's English
spelling must be one that English text uses: wordfreq's English list (Wikipedia, news, books,
subtitles; ~290k words of three letters or more) has "yonhap", "peskov", "wagner". So a name
is accepted when each of its words is in that list and *fits* the Arabic word it renders: the
same consonant skeleton, and a vowel wherever the Arabic writes one (ا و ي), of a kind that
letter writes. A name the list lacks is replaced by the listed word that fits the Arabic and
is nearest the model's spelling: "Byskov" -> "Peskov" (not "Biscoff", which fits too).

    >>> respell("Younihab", "يونهاب")
    'Yonhap'
"""

from __future__ import annotations

import re
from functools import cache

from .arabic import normalize
from .claims import ARABIC_CLASSES, arabic_skeleton, latin_skeleton
from .quantities import CLITICS

ZIPF_FLOOR = 1.0  # wordfreq's zipf scale: 1.0 is once per 100 million words
# The Latin vowels each Arabic long vowel letter writes, and those it writes less often (ي is
# also the "a" of "Jake", جيك): a spelling that needs the second kind ranks lower.
_VOWEL_KINDS = {"ا": ("a", "eo"), "و": ("ou", "w"), "ي": ("iey", "a"), "ى": ("iey", "a")}
_WORD = re.compile(r"[A-Za-z]+")


@cache
def _lexicon() -> dict[str, list[str]]:
    """Listed English words by consonant skeleton, most frequent first (~1 s, once)."""
    from wordfreq import top_n_list

    by_skeleton: dict[str, list[str]] = {}
    for word in top_n_list("en", 400_000, wordlist="large"):
        if len(word) >= 3 and word.isascii() and word.isalpha():
            by_skeleton.setdefault(latin_skeleton(word), []).append(word)
    return by_skeleton


def attested(word: str) -> bool:
    """Whether English text uses this spelling (any case)."""
    return _zipf(word) >= ZIPF_FLOOR


def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en", wordlist="large")


def fits(latin: str, arabic: str) -> bool:
    """Whether `latin` spells the Arabic word: the same consonant skeleton, and where the
    Arabic writes a long vowel (ا و ي) between two consonants or before the first, a Latin
    vowel of a kind that letter writes ("Peskov" and "Biscoff" fit بيسكوف, "Pskov" does not).
    A vowel the Arabic leaves unwritten may be anything; a final ا or ة may be Arabic's alone
    ("Ireland", أيرلندا)."""
    return _uncommon_vowels(latin, arabic) is not None


def _uncommon_vowels(latin: str, arabic: str) -> int | None:
    """None if `latin` does not fit the Arabic word, else how many of its vowels are of the
    less common kind for the Arabic letter."""
    arabic = normalize(arabic)
    if not latin or latin_skeleton(latin) != arabic_skeleton(arabic):
        return None
    wanted, said = _arabic_gaps(arabic), _latin_gaps(latin.lower())
    if len(wanted) != len(said):
        return None  # a letter the two skeletons count differently: no safe reading
    uncommon = 0
    for (common, rare), vowels in zip(wanted[:-1], said[:-1], strict=True):
        if common and not any(v in common for v in vowels):
            if not any(v in rare for v in vowels):
                return None
            uncommon += 1
    return uncommon


def respell(name: str, arabic: str) -> str | None:
    """`name` (one word or several) with each word that English does not use replaced by the
    listed spelling that fits its Arabic word and is nearest it; None when a word fits no
    Arabic word, or has no listed spelling that does."""
    words = _WORD.findall(name)
    words_ar = [w for w in re.findall(r"\w+", normalize(arabic)) if not w.isascii()]
    targets = words_ar + [w[len(p):] for w in words_ar for p in CLITICS  # "وبيسكوف"
                          if w.startswith(p) and len(w) - len(p) >= 3]
    out = []
    for word in words:
        fitting = [t for t in targets if latin_skeleton(word) == arabic_skeleton(t)]
        if not fitting:
            return None
        if attested(word) and any(fits(word, t) for t in fitting):
            out.append(word)
            continue
        # Nearest the model's spelling, then more common: each zipf point (10x) is worth half
        # an edit ("Faganr": Wagner, 3.7, before Wagoner, 2.4, one edit nearer).
        ranked = [(_distance(c, word.lower()) + 0.5 * uncommon - 0.5 * _zipf(c), c)
                  for t in fitting for c in _lexicon().get(arabic_skeleton(t), [])
                  if (uncommon := _uncommon_vowels(c, t)) is not None]
        if not ranked:
            return None
        best = min(ranked)[1]
        out.append(best.capitalize() if word[:1].isupper() else best)
    result = name
    for old, new in zip(words, out, strict=True):
        result = re.sub(rf"\b{old}\b", new, result, count=1)
    return result


def _arabic_gaps(word: str) -> list[tuple[str, str]]:
    """For each place a vowel may stand (before each consonant class, and after the last), the
    Latin vowels the Arabic letters written there allow, common and less common ("" when
    none is written)."""
    gaps: list[tuple[str, str]] = []
    common, rare, previous = "", "", ""
    for i, ch in enumerate(word.replace("تش", "ش").rstrip("ه")):
        if i == 0 and ch == "ا":
            common += "aeiou"  # alef with hamza opens "Ilyushin", "Anthony", "Eric"
        elif i > 0 and ch in _VOWEL_KINDS:
            common, rare = common + _VOWEL_KINDS[ch][0], rare + _VOWEL_KINDS[ch][1]
        else:
            cls = {"و": "f", "ي": "y"}[ch] if ch in "وي" else ARABIC_CLASSES.get(ch, "")
            if cls and cls != previous:
                gaps.append((common, rare))
                common, rare, previous = "", "", cls
    return [*gaps, (common, rare)]


def _latin_gaps(word: str) -> list[str]:
    """The Latin vowels written in each of those places. A letter opens a new place when it
    lengthens the skeleton (so "sh" is one consonant and the "h" of "Yonhap" counts only once
    a vowel follows it, as in latin_skeleton)."""
    gaps, current, length = [], "", 0
    for i, ch in enumerate(word):
        grown = len(latin_skeleton(word[: i + 1]))
        gaps += [current] + [""] * (grown - length - 1) if grown > length else []
        current = "" if grown > length else current
        length = grown
        if ch in "aeiou" or (ch in "wy" and i > 0):
            current += ch
    return [*gaps, current]


def _distance(a: str, b: str) -> float:
    """Edit distance in which a letter for one of its kind (a vowel for a vowel, "p" for "b",
    "v" for "f") costs half."""
    row = [float(j) for j in range(len(b) + 1)]
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], float(i)
        for j, y in enumerate(b, 1):
            swap = 0.0 if x == y else 0.5 if _kind(x) == _kind(y) else 1.0
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + swap)
    return row[-1]


def _kind(letter: str) -> str:
    return "v" if letter in "aeiouy" else latin_skeleton(letter) or letter

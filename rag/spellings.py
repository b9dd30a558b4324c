"""English spellings of names that the Arabic sentences write: "Yonhap" for يونهاب.

The 1.5B model transliterates Arabic names letter by letter: يونهاب as "Younihab", بيسكوف as
"Byskov", فاغنر as "Faganr". Their consonants agree with the Arabic, so the consonant skeleton
(rag.claims) accepts them, yet the spelling a reader would quote is wrong. A name's English
spelling must be one that English text uses often enough: wordfreq's English list
(Wikipedia, news, books, subtitles; ~290k words of three letters or more) has "yonhap",
"peskov", "wagner". Each word of a name is spelled as the most frequent listed word that *fits*
the Arabic word it renders (the same consonant skeleton, and a vowel wherever the Arabic writes
one, ا و ي, of a kind that letter writes) and is near the model's spelling: "Byskov" ->
"Peskov". Listed words are also brands and common words ("Biscoff" fits بيسكوف too): when two
different names fit near the model's spelling, the name is not spelled at all.

    >>> respell("Younihab", "يونهاب")
    'Yonhap'
"""

from __future__ import annotations

import re
from functools import cache

from .arabic import normalize
from .claims import ARABIC_CLASSES, arabic_skeleton, latin_skeleton
from .quantities import CLITICS

# wordfreq's zipf scale: 1.5 is about once in 30 million words. Rarer listed words are mostly
# misspellings and the model's own transliterations as others wrote them ("Shoygu", 1.3).
NAME_FLOOR = 1.5
NEAR = 2.5  # edits from the model's spelling ("Younihab" -> "Yonhap", "Faganr" -> "Wagner")
SAME_NAME = 1.5  # spellings this close are one name ("Dmitry", "Dimitri")
RIVAL = 1.0  # another name fitting as well counts unless 10x rarer than the best
# The Latin vowels each Arabic long vowel letter writes (ي is also the "a" of "Jake", جيك).
_VOWEL_KINDS = {"ا": "aeo", "و": "ouw", "ي": "ieya", "ى": "ieya"}
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


@cache
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en", wordlist="large")


def fits(latin: str, arabic: str) -> bool:
    """Whether `latin` spells the Arabic word: the same consonant skeleton, and where the
    Arabic writes a long vowel (ا و ي) between two consonants or before the first, a Latin
    vowel of a kind that letter writes ("Peskov" and "Biscoff" fit بيسكوف, "Pskov" does not).
    A vowel the Arabic leaves unwritten may be anything; a final ا or ة may be Arabic's alone
    ("Ireland", أيرلندا)."""
    arabic = normalize(arabic)
    if not latin or latin_skeleton(latin) != arabic_skeleton(arabic):
        return False
    wanted, said = _arabic_gaps(arabic), _latin_gaps(latin.lower())
    if len(wanted) != len(said):
        return False  # a letter the two skeletons count differently: no safe reading
    return all(any(v in kind for v in vowels)
               for kinds, vowels in zip(wanted[:-1], said[:-1], strict=True) for kind in kinds)


def respell(name: str, arabic: str) -> str | None:
    """`name` (one word or several) in the spelling English uses for the Arabic words it
    renders: each word as the model wrote it when English writes it so and it fits its Arabic
    word, else the listed spelling near it that does; None when a word fits no Arabic word
    or no listed spelling (or two different names) fits near the model's spelling."""
    words_ar = {w for w in re.findall(r"\w+", normalize(arabic)) if not w.isascii()}
    targets: dict[str, list[str]] = {}  # by skeleton
    for form in words_ar | {w[len(p):] for w in words_ar for p in CLITICS  # "وبيسكوف"
                            if w.startswith(p) and len(w) - len(p) >= 3}:
        targets.setdefault(arabic_skeleton(form), []).append(form)

    pieces, end = [], 0
    for match in _WORD.finditer(name):
        word = match.group()
        arabic_words = targets.get(latin_skeleton(word), [])
        if _zipf(word) >= NAME_FLOOR and any(fits(word, t) for t in arabic_words):
            listed = word  # the model's spelling is one English uses for this Arabic
        elif (listed := _spelling(word, arabic_words)) is None:
            return None
        elif word[:1].isupper():
            listed = listed.capitalize()
        pieces += [name[end:match.start()], listed]
        end = match.end()
    return "".join(pieces) + name[end:]


def _spelling(word: str, arabic: list[str]) -> str | None:
    """The listed spelling for a word the model spelled as English does not: of the listed
    words common enough to be a name's spelling that fit one of these Arabic words and are
    near the model's spelling, the most frequent, unless another name nearly as frequent fits
    too ("Khuan" for خوان is near "Kwon", "Conan", "Cowan"): the model's letters cannot tell
    which. Variants of one name ("Wagner", "Wagoner") are one name."""
    near = {c for t in arabic for c in _lexicon().get(arabic_skeleton(t), [])
            if _zipf(c) >= NAME_FLOOR and _distance(c, word.lower()) <= NEAR and fits(c, t)}
    if not near:
        return None
    best = max(near, key=_zipf)
    if any(_distance(c, best) > SAME_NAME and _zipf(c) > _zipf(best) - RIVAL for c in near):
        return None
    return best


def _arabic_gaps(word: str) -> list[list[str]]:
    """For each place a vowel may stand (before each consonant class, and after the last), the
    Latin vowels each Arabic vowel letter written there allows (none when none is written):
    "شويغو" needs an o/u/w and an i/e/y/a after "sh" ("Shoigu", not "Shaggy")."""
    gaps: list[list[str]] = []
    current: list[str] = []
    previous = ""
    for i, ch in enumerate(word.replace("تش", "ش").rstrip("ه")):
        if i == 0 and ch == "ا":
            current.append("aeiou")  # alef with hamza opens "Ilyushin", "Anthony", "Eric"
        elif i > 0 and ch in _VOWEL_KINDS:
            current.append(_VOWEL_KINDS[ch])
        else:
            cls = {"و": "f", "ي": "y"}[ch] if ch in "وي" else ARABIC_CLASSES.get(ch, "")
            if cls and cls != previous:
                gaps.append(current)
                current, previous = [], cls
    return [*gaps, current]


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

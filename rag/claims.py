"""Rule-based signals that a draft answer is supported by the sentence it cites.

The answer is often English and the evidence Arabic, so the signals are built to survive the
change of language: proper names compared by consonant skeleton, a draft that only restates
the question, and article sentences that address the assistant (planted instructions); the
quantities (numbers, dates, units) are in rag.quantities. No model calls; each is cheap.

    >>> name_alignment("Peskov said so", "قال بيسكوف للصحفيين")
    1.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from .arabic import normalize, tokenize
from .quantities import CLITICS, MONTHS, WEEKDAYS, quantities, supports


def _words(text: str) -> set[str]:
    return set(text.split())


# --- Proper names ----------------------------------------------------------------------------

# Names that Arabic translates rather than transliterates (any listed form counts).
_TRANSLATED = {key: [normalize(f) for f in forms.split("|")] for key, forms in {
    "north korea": "كوريا الشمالية|كوريا الديمقراطية|بيونغ يانغ|بيونج يانج|بيونغيانغ",
    "south korea": "كوريا الجنوبية|سيول", "united states": "الولايات المتحدة|أمريكا|واشنطن",
    "us": "الولايات المتحدة|أمريكا|الأمريكي|واشنطن", "usa": "الولايات المتحدة|أمريكا",
    "america": "أمريكا|الولايات المتحدة", "white house": "البيت الأبيض",
    "united nations": "الأمم المتحدة", "un": "الأمم المتحدة",
    "security council": "مجلس الأمن", "pentagon": "البنتاغون|البنتاجون|وزارة الدفاع",
    "state department": "وزارة الخارجية|الخارجية الأمريكية", "european union": "الاتحاد الأوروبي",
    "eu": "الاتحاد الأوروبي", "uk": "بريطانيا|المملكة المتحدة", "britain": "بريطانيا",
    "kcna": "الوكالة المركزية|وكالة الأنباء المركزية", "g7": "مجموعة السبع",
    "north korean": "كوري|بيونغ يانغ|بيونج يانج", "south korean": "كوري|سيول",
    "russian": "روسي", "american": "أمريك", "japan": "اليابان", "china": "الصين",
}.items()}
_NOT_NAMES = _words(
    "a an the in on at by for from to of and but or if as so he she it they we i you his her "
    "its their our this that these those there here what when where who whom why how which "
    "according after before during yes no not also however both some all many most other "
    "such new will would can could may might must should is are was were has have had did do "
    "does be been north south east west united president minister prime foreign defense "
    "defence secretary spokesman spokeswoman general king prince mr mrs ms dr sir council "
    "ministry university department agency news army navy forces national international "
    "republic democratic people party government state leader officials official "
    # Words that open a short answer ("About 430 miles", "Nearly three years"), not names.
    "about around approximately nearly almost roughly only just over under more less than "
    "since until while because though although into within without between among against "
    "each every any once twice first second third last next several few one two three") | {
    w for w in (*MONTHS, *WEEKDAYS) if w.isascii()}
_NAME_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*")
ARABIC_CLASSES = {**dict.fromkeys("بپ", "b"), **dict.fromkeys("تط", "t"),
                  **dict.fromkeys("ثسص", "s"), **dict.fromkeys("جغگڨڭ", "g"),
                  **dict.fromkeys("حه", "h"), **dict.fromkeys("خقكک", "k"),
                  **dict.fromkeys("دض", "d"), **dict.fromkeys("ذزظ", "z"), "ر": "r", "ش": "S",
                  **dict.fromkeys("فڤ", "f"), "ل": "l", "م": "m", "ن": "n"}
_LATIN_DIGRAPHS = [("sch", "S"), ("sh", "S"), ("ch", "S"), ("kh", "k"), ("gh", "g"),
                   ("ph", "f"), ("th", "t"), ("dh", "z"), ("ck", "k"), ("qu", "k"), ("x", "ks")]
_LATIN_CLASSES = {"c": "k", "q": "k", "j": "g", "v": "f", "w": "f", "p": "b"}


def _collapse(letters: list[str]) -> str:
    return "".join(c for i, c in enumerate(letters) if i == 0 or c != letters[i - 1])


def arabic_skeleton(word: str) -> str:
    """Consonant classes of a normalized Arabic word: "شويغو" -> "Sg", "بيسكوف" -> "bskf"."""
    word = word.replace("تش", "ش").rstrip("ه")  # "تشين", final ة (folded to ه) is a vowel
    out = [{"و": "f", "ي": "y"}[ch] if i == 0 and ch in "وي" else ARABIC_CLASSES.get(ch, "")
           for i, ch in enumerate(word)]
    return _collapse([c for c in out if c])


def latin_skeleton(word: str) -> str:
    """Consonant classes of a Latin-script name: "Shoigu" -> "Sg", "Peskov" -> "bskf"."""
    word = re.sub(r"[\s'’-]", "", word.lower())
    for digraph, cls in _LATIN_DIGRAPHS:
        word = word.replace(digraph, cls)
    out = []
    for i, ch in enumerate(word):
        before, after = word[i - 1:i], word[i + 1:i + 2]
        if ch in "aeiou" or (ch in "wy" and i > 0) or (ch == "h" and (not after or (
                before in "aeiou" and before and after not in "aeiou"))):
            continue
        out.append("s" if ch == "c" and after in ("e", "i", "y") else _LATIN_CLASSES.get(ch, ch))
    return _collapse(out)


def _close(a: str, b: str) -> bool:
    """Equal skeletons, or one edit apart when both have four consonants or more."""
    if a == b or min(len(a), len(b)) < 4:
        return a == b and bool(a)
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1:] == short
                                               for i in range(len(long)))


def _arabic_skeletons(sentence: str) -> dict[str, str]:
    """Skeleton -> Arabic text, for each word (bare or behind a clitic) and adjacent pair."""
    words = [w for w in re.findall(r"\w+", normalize(sentence)) if not w.isascii()]
    found: dict[str, str] = {}
    pairs = [(w, w) for w in words] + [(a + b, f"{a} {b}") for a, b in pairwise(words)]
    for joined, text in pairs:
        for form in [joined] + [joined[len(p):] for p in CLITICS
                                if joined.startswith(p) and len(joined) - len(p) >= 2]:
            found.setdefault(arabic_skeleton(form), text)
    found.pop("", None)
    return found


@dataclass(frozen=True)
class NameMatch:
    """A name of the claim and the sentence text it matched (None when it matched nothing)."""

    name: str
    matched: str | None

    @property
    def aligned(self) -> bool:
        return self.matched is not None


def translated(name: str) -> bool:
    """A name of the table; short keys only as acronyms ("UN", not the "Un" of Kim Jong Un)."""
    return name.lower() in _TRANSLATED and (len(name) > 3 or name.isupper())


def claim_names(claim: str) -> list[str]:
    """Capitalized names of a Latin-script claim, with common words and titles left out."""
    names: list[str] = []
    for run in _NAME_RUN.findall(claim):
        words = [re.sub(r"[’']s$", "", w) for w in run.split() if w != "of"]
        i, current = 0, []
        while i <= len(words):
            span = next((n for n in (3, 2, 1) if i + n <= len(words) and
                         translated(" ".join(words[i:i + n]))), 0)
            if span or i == len(words) or words[i].lower() in _NOT_NAMES:
                names += [" ".join(current)] if current else []
                names += [" ".join(words[i:i + span])] if span else []
                current, i = [], i + (span or 1)
            else:
                current, i = [*current, words[i]], i + 1
    return names


def align_names(claim: str, sentence: str) -> list[NameMatch]:
    """For each name of `claim`, the text of `sentence` that names it, or None."""
    skeletons = _arabic_skeletons(sentence)
    plain = normalize(sentence)
    result = []
    for name in claim_names(claim):
        matched = None
        if re.search(rf"\b{re.escape(name.lower())}\b", plain):
            matched = name
        elif translated(name):
            matched = next((f for f in _TRANSLATED[name.lower()]
                            if f in plain or (f.startswith("ال") and f[2:] in plain)), None)
        else:
            def find(skel: str) -> str | None:
                return next((text for s, text in skeletons.items() if _close(skel, s)), None)

            parts = [find(latin_skeleton(w)) for w in name.split()]
            matched = " ".join(p for p in parts if p) if all(parts) else \
                find(latin_skeleton(name))
        result.append(NameMatch(name, matched))
    return result


def name_alignment(claim: str, sentence: str) -> float | None:
    """Share of the claim's names that the sentence names too; None if the claim names none."""
    matches = align_names(claim, sentence)
    return sum(m.aligned for m in matches) / len(matches) if matches else None


# --- A draft that restates the question ------------------------------------------------------

_EN_STOP = _words("a an the is are was were will would shall be been being has have had did "
                  "do does of in on at to for by with from and or but that this it he she they "
                  "his her its their what when where who whom whose which how why said says not "
                  "yes there as about than then so")
_AR_STOP = set(tokenize("متى ما ماذا من أين كيف لماذا هل كم أي في على إلى عن مع أن إن كان "
                        "قد لقد هو هي هم ذلك هذا هذه التي الذي الذين أو ثم لا لم لن"))
_MARKERS = re.compile(r"\[\d+(?:\s*[,،]\s*\d+)*\]")


def content_words(text: str) -> set[str]:
    """Words that carry meaning: stop words dropped, Arabic normalized and light-stemmed,
    English lowercased with a crude suffix strip (also how the app marks query words)."""
    words = set()
    for word in re.findall(r"\w+", _MARKERS.sub(" ", text)):
        if word.isascii():
            word = word.lower()
            for suffix in ("ing", "ed", "es", "s", "e"):
                if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                    word = word[: -len(suffix)]
                    break
            if word not in _EN_STOP and len(word) > 1:
                words.add(word)
        else:
            words |= {t for t in tokenize(word) if t not in _AR_STOP}
    return words


def restates_question(draft: str, question: str, evidence: str) -> bool:
    """True when the draft adds nothing from the evidence to what the question already says.

    Content words (Arabic normalized and light-stemmed, English lowercased with a crude suffix
    strip) that the question lacks must occur in the evidence to count; so do numbers and
    dates. Latin names are compared with an Arabic question or evidence by skeleton.
    """
    def names_in(text: str) -> set[str]:  # the draft's name words that `text` names
        return {w for m in align_names(draft, text) if m.aligned for w in content_words(m.name)}

    new = content_words(draft) - content_words(question) - names_in(question)
    if not evidence.strip():
        return not new
    from_evidence = new & (content_words(evidence) | names_in(evidence))
    asked, stated = quantities(question), quantities(evidence)
    return not from_evidence and not any(
        any(supports(s, q) for s in stated) for q in quantities(draft)
        if not any(supports(a, q) for a in asked))


# --- Sentences that address the assistant ----------------------------------------------------

_TO_ASSISTANT = [re.compile(p, re.IGNORECASE) for p in (
    r"\bignore (all |any |the )?(previous|prior|above|earlier|your|other) (instruction|prompt)s?",
    r"\bignore everything (above|before)\b",
    r"\b(previous|prior|earlier|system|hidden)\s+(instructions|prompts?)\b",
    r"\byou are now\b|\bdeveloper mode\b|\bjailbreak|\bas an? (ai|assistant|language model)\b",
    r"\b(to|for) (the|any|an?|all) (ai|virtual) (assistant|system|model)s?\s*(:|reading|\.|,|$)",
    r"\b(to|for) (the|any|an?|all) (ai|assistant|chatbot|llm)s?\s*(:|reading|\.|,|$)",
    r"(^|[,:;]\s*|\band\s+)(respond|reply|answer)\s+(only\s+)?(with|in)\b",
    r"^\W*(say|write|repeat|cite)\s", r"\b(your|every|each) (answer|response|reply)s?\b",
    r"\b(before|when|whenever) you (answer|respond|reply)\b",
    r"\b(print|reveal|repeat|show|output)\b.{0,40}\b(prompt|instructions)\b",
    r"\b(safety|content) (rules|filters|guardrails) (are|have been) (now )?(disabled|off)\b",
    r"^\W*(system|assistant|user|developer)\s*:", r"\bsource\s*\[\d+\]",
    r"\bréponds\b|\brépondez\b|\bignorez\b", r"!\[[^\]]*\]\(", r"\[[^\]]+\]\(\s*(https?:|www\.)",
    r"<\s*/?\s*[a-z][a-z0-9]*(\s[^<>]*)?/?>", r"(\[\d+\]\s*){2,}",
)] + [re.compile(normalize(p)) for p in (
    r"(أيها|يا) (المساعد|الذكاء الاصطناعي|النموذج|البوت|الروبوت)",
    r"(للمساعد|المساعد|للنموذج|النموذج) (الآلي|الذكي|الافتراضي|اللغوي)",
    r"تجاهل\s+(كل|جميع)?\s*(التعليمات|الأوامر|ما سبق)", r"تعليمات النظام|موجه النظام",
    r"وضع المطور|أنت الآن", r"(^|\s)[وف]?(أجب|أجيبي|أجيبوا|اكتب)(\s|$)",
    r"(^|[\s،,:])[وف]?قل (إن|أن|إنه|إنها|لهم|له|لي)\s", r"إجابتك|إجاباتك|ردك على السؤال",
    r"مصدر\s*(رقم\s*)?\[\d+\]", r"^[^\w]*(النظام|المساعد|المستخدم)\s*:",
)]


def addresses_assistant(sentence: str) -> bool:
    """True when an article sentence speaks to the assistant (a planted instruction).

    English and Arabic phrasings of "ignore previous instructions", "you are now", "answer
    with/in", "your answer", "system prompt", vocatives ("أيها المساعد"), imperatives (أجب،
    قل، اكتب), fake speaker labels ("SYSTEM:"), markdown links and images, HTML tags, and runs
    of citation markers ("[1][2][3]"). Reported speech ("قال للصحفيين إن", "told reporters
    to") does not count.
    """
    plain = normalize(sentence)
    return any(p.search(sentence) or p.search(plain) for p in _TO_ASSISTANT)

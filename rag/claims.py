"""Rule-based signals that a draft answer is supported by the sentence it cites.

The answer is often English and the evidence Arabic, so the signals are built to survive the
change of language: quantities (numbers, dates, units) in one canonical form, proper names
compared by consonant skeleton, a draft that only restates the question, and article sentences
that address the assistant (planted instructions). No model calls; each function is cheap.

    >>> quantities_supported("It travelled 430 miles", "قطع القطار مسافة 430 ميلاً")
    1.0
    >>> name_alignment("Peskov said so", "قال بيسكوف للصحفيين")
    1.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from rag.arabic import normalize, tokenize

# --- Quantities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """One number, date, month or weekday, in a form shared by Arabic and English text.

    `kind` is "number" (value "430", "3.5", "3000000"; `unit` "mile", "km", "%", "$" or ""),
    "date" (value "18/8": day/month), "month" (value "8") or "weekday" (value "1" = Monday).
    """

    kind: str
    value: str
    unit: str = ""

    def __str__(self) -> str:
        text = self.value if self.kind in ("number", "date") else f"{self.kind}:{self.value}"
        return f"{text} {self.unit}".strip()


def _numbered(groups: str, start: int = 1, factor: int = 1) -> dict[str, int]:
    """{word: number} from "|"-separated groups of spellings (tables read better as prose)."""
    return {w: i * factor for i, g in enumerate(groups.split("|"), start) for w in g.split()}


def _words(text: str) -> set[str]:
    return set(text.split())


_EN_NUMBERS = _numbered("zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                        "thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen", 0)
_EN_NUMBERS |= _numbered("twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety", 2, 10)
_AR_NUMBERS = _numbered("واحد واحده|اثنان اثنين اثنتان اثنتين اثنا اثنتا|ثلاثه ثلاث|اربعه اربع|"
                        "خمسه خمس|سته ست|سبعه سبع|ثمانيه ثماني ثمان|تسعه تسع|عشره عشر")
_AR_NUMBERS |= _numbered("عشرون عشرين|ثلاثون ثلاثين|اربعون اربعين|خمسون خمسين|ستون ستين|"
                         "سبعون سبعين|ثمانون ثمانين|تسعون تسعين", 2, 10)
_AR_NUMBERS |= _numbered("ثلاثمئه ثلاثمائه|اربعمئه اربعمائه|خمسمئه خمسمائه|ستمئه ستمائه|"
                         "سبعمئه سبعمائه|ثمانمئه ثمانمائه|تسعمئه تسعمائه", 3, 100)
_WORDS = {**_EN_NUMBERS, **_AR_NUMBERS, "half": Decimal("0.5"), "نصف": Decimal("0.5")}
# Words that multiply what came before them ("three hundred", "ثلاثه ملايين"); plural forms
# only count after a multiplier ("ملايين" alone is "millions", not a number).
_SCALES = {"hundred": 100, "مئه": 100, "مائه": 100, "dozen": 12, "thousand": 10**3,
           "الف": 10**3, "million": 10**6, "مليون": 10**6, "billion": 10**9, "مليار": 10**9,
           "بليون": 10**9}
_PLURAL_SCALES = {"الاف": 10**3, "ملايين": 10**6, "مليارات": 10**9}
_DUALS = {w: 2 * s for s, ws in [(100, "مئتان مئتين مئتي مائتان مائتين مائتي"),
                                 (10**3, "الفان الفين الفي"), (10**6, "مليونان مليونين مليوني"),
                                 (10**9, "ملياران مليارين ملياري")] for w in ws.split()}
_UNITS = {"mile": "mile miles ميل ميلا اميال", "km": "km kilometre kilometres kilometer "
          "kilometers كيلومتر كيلومترا كيلومترات كلم كم", "%": "% percent بالمئه بالمائه",
          "$": "$ dollar dollars usd دولار دولارا دولارات"}
_UNIT_OF = {w: unit for unit, ws in _UNITS.items() for w in ws.split()}
_MONTHS = _numbered("january jan يناير كانون_الثاني|february feb فبراير شباط|march mar مارس اذار|"
                    "april apr ابريل نيسان|may مايو ايار|june jun يونيو يونيه حزيران|july jul "
                    "يوليو يوليه تموز|august aug اغسطس اب|september sep sept سبتمبر ايلول|"
                    "october oct اكتوبر تشرين_الاول|november nov نوفمبر تشرين_الثاني|"
                    "december dec ديسمبر كانون_الاول")
_NEEDS_CONTEXT = {"اب", "مارس"}  # also "father" / "practised": need a number or "في" nearby
_MONTH_CONTEXT = {"في", "شهر", "منذ", "خلال", "حتي", "مطلع", "اواخر", "اوائل", "منتصف"}
_WEEKDAYS = _numbered("monday الاثنين|tuesday الثلاثاء|wednesday الاربعاء|thursday الخميس|"
                      "friday الجمعه|saturday السبت|sunday الاحد")
_PREFIXES = ("و", "ب", "ل", "ف", "ك")
_CLITICS = ("وبال", "وال", "بال", "لل", "ال", "وب", "ول", *_PREFIXES)
_TOKEN = re.compile(r"(\d+(?:,\d{3}(?!\d))*(?:\.\d+)?)(?:st|nd|rd|th)\b|"
                    r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?|[^\W\d_]+|[%$]")
_SCRIPT_MARKS = str.maketrans({"\u066b": ".", "\u066c": ",", "\u066a": "%"})


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(normalized token, written capitalized) pairs; two-word month names joined by "_"."""
    out: list[tuple[str, bool]] = []
    for word in text.translate(_SCRIPT_MARKS).split():
        for i, m in enumerate(_TOKEN.finditer(normalize(word))):
            token = m.group(1) or m.group()
            if token in ("الثاني", "الاول") and out and out[-1][0] in ("كانون", "تشرين"):
                out[-1] = (f"{out[-1][0]}_{token}", False)
                continue
            letters = word.lstrip("\"'“‘«([")
            out.append((token, i == 0 and letters[:1].isupper()))
    return out


def _lookup(token: str, table: dict[str, Any], clitics: tuple[str, ...] = _CLITICS) -> Any:
    """`table[token]`, also behind a proclitic ("وثلاثه"); whole tokens ("بالمئه") first."""
    if token in table:
        return table[token]
    for prefix in clitics:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3 and \
                token[len(prefix):] in table:
            return table[token[len(prefix):]]
    return None


def _word_value(tokens: list[tuple[str, bool]], i: int) -> Any:
    token = tokens[i][0] if i < len(tokens) else ""
    if token in _WEEKDAYS or token[1:] in _WEEKDAYS:  # "الاثنين" is Monday, not two
        return None
    if token == "one":  # "one of them", "no one": not a count
        if i + 1 < len(tokens) and tokens[i + 1][0] in ("of", "another"):
            return None
        if i > 0 and tokens[i - 1][0] in ("no", "any", "every", "some", "the", "this", "that"):
            return None
    if token in ("احد", "احدي"):  # "one" only in "احد عشر" (else "one of", Sunday)
        return 1 if i + 1 < len(tokens) and tokens[i + 1][0] in ("عشر", "عشره") else None
    return _lookup(token, _WORDS)


def _numbers(tokens: list[tuple[str, bool]]) -> list[tuple[int, int, Decimal]]:
    """(first token, last token, value) of each number, digits or words with their scales."""
    numbers: list[tuple[int, int, Decimal]] = []
    i = 0
    while i < len(tokens):
        start, total, current, seen = i, Decimal(0), Decimal(0), False
        while i < len(tokens):
            token = tokens[i][0]
            is_digit = token[0].isdigit()
            nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
            if is_digit and seen:
                break
            # Not behind the article: "في المئه" is "percent", not a hundred.
            scale = _lookup(token, _SCALES, _PREFIXES) or \
                (seen and _lookup(token, _PLURAL_SCALES, _PREFIXES))
            value = Decimal(token.replace(",", "")) if is_digit else _word_value(tokens, i)
            if scale:
                total, current = (total + (current or 1) * scale, Decimal(0)) if scale != 100 \
                    else (total, (current or 1) * 100)
            elif _lookup(token, _DUALS):
                total += _lookup(token, _DUALS)
            elif value is not None:
                current += value
            elif token in ("a", "an") and (_lookup(nxt, _SCALES) or nxt == "half"):
                pass
            elif not (seen and token in ("and", "و") and _word_value(tokens, i + 1)):
                break
            seen, i = True, i + 1
        if seen:
            numbers.append((start, i - 1, total + current))
        else:
            i += 1
    return numbers


def quantities(text: str) -> set[Quantity]:
    """Every number, date (day/month), month and weekday of `text`, Arabic or English.

    Digits in any script with "," thousands and "." decimals ("3,5" is read as the two
    numbers 3 and 5, never as 3.5), number words with scales ("three million", "٣ ملايين",
    "ثلاثة ملايين" -> 3000000), a unit right after the number ("430 ميلاً" -> 430 mile).
    A day next to a month makes a date ("18 August", "August 18", "١٨ آب" -> 18/8).
    """
    tokens = _tokens(text)
    numbers = _numbers(tokens)
    found: set[Quantity] = set()
    used: set[int] = set()
    for at, (token, capital) in enumerate(tokens):
        month = _lookup(token, _MONTHS) if not token.isascii() else _MONTHS.get(token)
        if month and token.isascii() and not capital:
            month = None  # "may" the verb
        near = [n for n in numbers if n[1] == at - 1 or n[0] == at + 1]
        if month and (token not in _NEEDS_CONTEXT or near or
                      (at and tokens[at - 1][0] in _MONTH_CONTEXT)):
            days = [n for n in near if n[2] == int(n[2]) and 1 <= n[2] <= 31]
            if days:
                used.add(days[0][0])
                found.add(Quantity("date", f"{int(days[0][2])}/{month}"))
            else:
                found.add(Quantity("month", str(month)))
        weekday = _WEEKDAYS.get(token) or _WEEKDAYS.get(token[1:] if token[:1] in "وب" else "")
        if weekday and (token.isascii() == capital):
            found.add(Quantity("weekday", str(weekday)))
    for start, end, value in numbers:
        if start in used:
            continue
        found.add(Quantity("number", format(value.normalize(), "f"), _unit(tokens, start, end)))
    return found


def _unit(tokens: list[tuple[str, bool]], start: int, end: int) -> str:
    """The unit written right before ("$14") or after ("430 ميلاً", "30 في المئة") a number."""
    if start and tokens[start - 1][0] == "$":
        return "$"
    after = [t for t, _ in tokens[end + 1:end + 3]]
    if after and (unit := _lookup(after[0], _UNIT_OF)):
        return unit
    return "%" if after in (["في", "المئه"], ["في", "المائه"]) else ""


def _supports(have: Quantity, claim: Quantity) -> bool:
    if have.kind == "date" and claim.kind in ("number", "month"):  # a date holds its parts
        day, month = have.value.split("/")
        return claim.value == (day if claim.kind == "number" else month) and not claim.unit
    if have.kind != claim.kind or have.value != claim.value:
        return False
    return not (have.unit and claim.unit and have.unit != claim.unit)


def quantities_supported(claim: str, sentence: str) -> float | None:
    """Share of the claim's quantities that `sentence` states too; None if it has none."""
    wanted = quantities(claim)
    if not wanted:
        return None
    have = quantities(sentence)
    return sum(any(_supports(h, q) for h in have) for q in wanted) / len(wanted)


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
    w for w in (*_MONTHS, *_WEEKDAYS) if w.isascii()}
_NAME_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*")
_AR_CLASSES = {**dict.fromkeys("بپ", "b"), **dict.fromkeys("تط", "t"),
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
    out = [{"و": "f", "ي": "y"}[ch] if i == 0 and ch in "وي" else _AR_CLASSES.get(ch, "")
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
        for form in [joined] + [joined[len(p):] for p in _CLITICS
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


def _translated(name: str) -> bool:
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
                         _translated(" ".join(words[i:i + n]))), 0)
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
        elif _translated(name):
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


def _content_words(text: str) -> set[str]:
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
        return {w for m in align_names(draft, text) if m.aligned for w in _content_words(m.name)}

    new = _content_words(draft) - _content_words(question) - names_in(question)
    if not evidence.strip():
        return not new
    from_evidence = new & (_content_words(evidence) | names_in(evidence))
    asked, stated = quantities(question), quantities(evidence)
    return not from_evidence and not any(
        any(_supports(s, q) for s in stated) for q in quantities(draft)
        if not any(_supports(a, q) for a in asked))


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

"""Numbers, dates, amounts and units in one form shared by Arabic and English text.

"430 miles" and "430 ميلاً", "18 August" and "18 آب", "three" and "ثلاثة" and "٣" read alike, so
that a claim's quantities can be looked for in the sentence it cites, across languages.

    >>> quantities_supported("It travelled 430 miles", "قطع القطار مسافة 430 ميلاً")
    1.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .arabic import normalize


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
          "$": "$ dollar dollars usd دولار دولارا دولارات",
          "hour": "hour hours ساعه ساعات", "day": "day days يوما ايام",
          "week": "week weeks اسبوع اسبوعا اسابيع"}
_UNIT_OF = {w: unit for unit, ws in _UNITS.items() for w in ws.split()}
# An Arabic dual is a count of its own: "تستغرق يومين" is 2 days, "فشلها مرتين" twice.
_DUAL_UNITS = {w: unit for unit, ws in (("day", "يومين يومان"), ("hour", "ساعتين ساعتان"),
                                        ("week", "اسبوعين اسبوعان"), ("", "مرتين مرتان twice"))
               for w in ws.split()}
MONTHS = _numbered("january jan يناير كانون_الثاني|february feb فبراير شباط|march mar مارس اذار|"
                    "april apr ابريل نيسان|may مايو ايار|june jun يونيو يونيه حزيران|july jul "
                    "يوليو يوليه تموز|august aug اغسطس اب|september sep sept سبتمبر ايلول|"
                    "october oct اكتوبر تشرين_الاول|november nov نوفمبر تشرين_الثاني|"
                    "december dec ديسمبر كانون_الاول")
_NEEDS_CONTEXT = {"اب", "مارس"}  # also "father" / "practised": need a number or "في" nearby
_MONTH_CONTEXT = {"في", "شهر", "منذ", "خلال", "حتي", "مطلع", "اواخر", "اوائل", "منتصف"}
WEEKDAYS = _numbered("monday الاثنين|tuesday الثلاثاء|wednesday الاربعاء|thursday الخميس|"
                      "friday الجمعه|saturday السبت|sunday الاحد")
_PREFIXES = ("و", "ب", "ل", "ف", "ك")
CLITICS = ("وبال", "وال", "بال", "لل", "ال", "وب", "ول", *_PREFIXES)
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


def _lookup(token: str, table: dict[str, Any], clitics: tuple[str, ...] = CLITICS) -> Any:
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
    if token in WEEKDAYS or token[1:] in WEEKDAYS:  # "الاثنين" is Monday, not two
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
        month = _lookup(token, MONTHS) if not token.isascii() else MONTHS.get(token)
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
        weekday = WEEKDAYS.get(token) or WEEKDAYS.get(token[1:] if token[:1] in "وب" else "")
        if weekday and (token.isascii() == capital):
            found.add(Quantity("weekday", str(weekday)))
        if (unit := _lookup(token, _DUAL_UNITS)) is not None:
            found.add(Quantity("number", "2", unit))
    for start, end, value in numbers:
        if start in used or _grouped_or_decimal(tokens, start):
            continue
        found.add(Quantity("number", format(value.normalize(), "f"), _unit(tokens, start, end)))
    return found


def without_quantities(text: str) -> str:
    """`text` without the words that state its quantities: digits, number words, units,
    duals ("2 يوماً في سيول" -> "في سيول")."""
    def states(word: str) -> bool:
        token = normalize(word).strip(".,،؛:()[]«»\"'")
        return bool(quantities(word)) or _lookup(token, _UNIT_OF) is not None or \
            _lookup(token, _WORDS) is not None
    return " ".join(w for w in text.split() if not states(w))


def _grouped_or_decimal(tokens: list[tuple[str, bool]], at: int) -> bool:
    """"10.500 ملايين يورو": Arabic news translated from Spanish or French groups thousands with
    "." (10,500 million), elsewhere it is a decimal point; with exactly three digits after it
    in Arabic text, neither reading can be checked, so the number is left out."""
    if not re.fullmatch(r"\d{1,3}\.\d{3}", tokens[at][0]):
        return False
    return any(not t.isascii() for t, _ in tokens[max(0, at - 1):at + 2])


def _unit(tokens: list[tuple[str, bool]], start: int, end: int) -> str:
    """The unit written right before ("$14") or after ("430 ميلاً", "30 في المئة") a number."""
    if start and tokens[start - 1][0] == "$":
        return "$"
    after = [t for t, _ in tokens[end + 1:end + 3]]
    if after and (unit := _lookup(after[0], _UNIT_OF)):
        return unit
    return "%" if after in (["في", "المئه"], ["في", "المائه"]) else ""


def supports(have: Quantity, claim: Quantity) -> bool:
    """Whether `have` (stated by a sentence) states `claim`: the same value, and the same unit
    where both give one; a date also states its day and its month."""
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
    return sum(any(supports(h, q) for h in have) for q in wanted) / len(wanted)




_EN_MONTHS: dict[int, str] = {}
_EN_WEEKDAYS: dict[int, str] = {}
for _table, _names in ((MONTHS, _EN_MONTHS), (WEEKDAYS, _EN_WEEKDAYS)):
    for _word, _number in _table.items():  # each group lists the full English name first
        if _word.isascii():
            _names.setdefault(_number, _word)
_PLURAL_UNITS = {"mile": "miles", "km": "km", "kg": "kg", "ton": "tons", "metre": "metres",
                 "meter": "meters", "hour": "hours", "day": "days", "week": "weeks"}


def in_english(q: Quantity) -> str:
    """How an English answer says `q`: "Tuesday", "September", "5 September", "430 miles"."""
    if q.kind == "weekday":
        return _EN_WEEKDAYS[int(q.value)].capitalize()
    if q.kind == "month":
        return _EN_MONTHS[int(q.value)].capitalize()
    if q.kind == "date":
        day, month = q.value.split("/")
        return f"{day} {_EN_MONTHS[int(month)].capitalize()}"
    if q.unit == "$":
        return f"${q.value}"
    if q.unit == "%":
        return f"{q.value}%"
    return f"{q.value} {_PLURAL_UNITS.get(q.unit, q.unit)}".strip()

"""An article's outlet and publication date, read from its own text where it states them.

News pages name their outlet in a few set places: a "Source:"/"المصدر:" line, a dateline at
the start of the story ("واشنطن-رويترز", "KYIV (Reuters) -", "المستقلة/-"), a photo credit under
a picture ("... 26 يوليو 2023 - REUTERS", "Photo: AFP/Getty Images"), or only a link to the
original. Nothing here guesses: an article that names no outlet keeps an empty source.
"""

from __future__ import annotations

import re
from datetime import date

_PUBLISHED = re.compile(  # a bare "تاريخ" or "date" needs its colon: "تاريخ العلاقات ..."
    r"(?:(?:تاريخ النشر|نُ?شر في|published(?:\s+on)?|posted(?:\s+on)?)\s*[:：]?"
    r"|(?:تاريخ|date)\s*[:：])\s*(.+)",
    re.IGNORECASE,
)
_SOURCE = re.compile(r"(?:المصدر|مصدر الخبر|source)\s*[:：]\s*(.+)", re.IGNORECASE)
_URL = re.compile(r"https?://(?:www\.)?([^/?#\s]+)")

_AGENCIES = (
    "رويترز|فرانس برس|أ ف ب|أ\\.ف\\.ب|ا ف ب|الأناضول|د ب أ|د\\.ب\\.أ|أسوشيتد برس|أ ب|وام|واس|قنا"
    "|كونا|بترا|سانا|شينخوا|سبوتنيك|Reuters|AFP|AP|Associated Press|Anadolu|Xinhua|DPA|EPA"
    "|Getty Images|Bloomberg|TASS"
)
_DATELINES = (
    re.compile(rf"^[^\W\d][\w ]{{0,30}}?\s*[-–—/]\s*({_AGENCIES})\s*$", re.IGNORECASE),
    re.compile(rf"^[^\n(]{{0,30}}\(\s*({_AGENCIES})\s*\)\s*[-–—:]", re.IGNORECASE),
    re.compile(r"^([^\W\d_]+(?: [^\W\d_]+)?)\s*/\s*[-–—]\s"),  # "المستقلة/- قال ..."
)
# A photo credit ends a caption: "... واشنطن. 26 يوليو 2023 - REUTERS", "(Photo: AFP)",
# "REUTERS/Kevin Lamarque", "صورة: رويترز". Only known agencies: a photographer's name alone
# is no outlet.
_CREDITS = (
    re.compile(rf"(?:^|[-–—|(]\s*)({_AGENCIES})(?:\s*/\s*[^\W\d][\w .'-]{{0,40}})?\s*\)?\.?$",
               re.IGNORECASE),
    re.compile(rf"(?:^|\s)({_AGENCIES.upper()})/[^\W\d][\w .'-]{{0,40}}$"),  # agency's style
    re.compile(rf"(?:photo|picture|image|صورة|الصورة|تصوير)\s*[:：]\s*(?:[^/\n]{{0,40}}/\s*)?"
               rf"({_AGENCIES})\b", re.IGNORECASE),
)
CAPTION_CHARS = 300  # a photo caption is a short line; a credit in a long paragraph is a quote

_MONTHS = {
    **dict.fromkeys(["يناير", "كانون الثاني", "جانفي", "january", "jan"], 1),
    **dict.fromkeys(["فبراير", "شباط", "فيفري", "february", "feb"], 2),
    **dict.fromkeys(["مارس", "آذار", "اذار", "march", "mar"], 3),
    **dict.fromkeys(["أبريل", "ابريل", "إبريل", "نيسان", "أفريل", "افريل", "april", "apr"], 4),
    **dict.fromkeys(["مايو", "أيار", "ايار", "ماي", "may"], 5),
    **dict.fromkeys(["يونيو", "يونيه", "حزيران", "جوان", "june", "jun"], 6),
    **dict.fromkeys(["يوليو", "يوليه", "تموز", "جويلية", "july", "jul"], 7),
    **dict.fromkeys(["أغسطس", "اغسطس", "آب", "أوت", "اوت", "august", "aug"], 8),
    **dict.fromkeys(["سبتمبر", "أيلول", "ايلول", "september", "sept", "sep"], 9),
    **dict.fromkeys(["أكتوبر", "اكتوبر", "تشرين الأول", "تشرين الاول", "october", "oct"], 10),
    **dict.fromkeys(["نوفمبر", "تشرين الثاني", "november", "nov"], 11),
    **dict.fromkeys(["ديسمبر", "كانون الأول", "كانون الاول", "december", "dec"], 12),
}
_MONTH = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_ALT_MONTH = rf"(?:\s*/\s*(?:{_MONTH})|\s*\(\s*(?:{_MONTH})\s*\))?"  # "سبتمبر/أيلول"
_DATES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        (
            rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<m>{_MONTH}){_ALT_MONTH}\.?,?\s+"
            r"(?P<y>\d{4})(?!\d)"
        ),
        (
            rf"(?<!\w)(?P<m>{_MONTH}){_ALT_MONTH}\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
            r"(?P<y>\d{4})(?!\d)"
        ),
        r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)",
        r"(?<!\d)(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})(?!\d)",  # day first, as in Arabic
    )
]
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def find_date(text: str) -> str:
    """The first full date (day, month, year) in `text` as YYYY-MM-DD, or ""."""
    text = text.translate(_DIGITS)
    found = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            month = m.group("m")
            month_number = int(month) if month.isdigit() else _MONTHS[month.lower()]
            try:
                day = date(int(m.group("y")), month_number, int(m.group("d")))
            except ValueError:
                continue
            if 1900 <= day.year <= 2100:
                found.append((m.start(), day.isoformat()))
                break
    return min(found)[1] if found else ""


def is_metadata_line(line: str) -> bool:
    """A publication-date or "Source:" line: metadata, not article text."""
    published = len(line) < 80 and _PUBLISHED.fullmatch(line)
    return bool(published and find_date(published.group(1))) or bool(
        len(line) < 150 and _SOURCE.fullmatch(line)
    )


def article_metadata(meta_lines: list[str], paragraphs: list[str], raw: str) -> tuple[str, str]:
    """(date, outlet) of one article. The date: its publication line, else the first date in
    its raw text. The outlet: its "Source:" line, else its dateline, else a photo credit,
    else the site of its source link. The first of each kind wins."""
    published = source = url = ""
    for line in meta_lines:
        if (m := _SOURCE.fullmatch(line)) and _URL.match(m.group(1).strip()):
            url = url or m.group(1).strip()
        elif m:
            source = source or m.group(1).strip()
        elif m := _PUBLISHED.fullmatch(line):
            published = published or find_date(m.group(1))
    captions = [p for p in paragraphs if len(p) < CAPTION_CHARS]
    outlet = source or _first(_DATELINES, paragraphs[:5], re.Pattern.match) or \
        _first(_CREDITS, captions, re.Pattern.search) or _domain(url)
    return published or find_date(raw), _tidy(outlet)


def _first(patterns: tuple[re.Pattern, ...], paragraphs: list[str], how) -> str:
    for paragraph in paragraphs:
        for pattern in patterns:
            if m := how(pattern, paragraph):
                return m.group(1)
    return ""


def _domain(url: str) -> str:
    m = _URL.match(url)
    return m.group(1) if m else ""


def _tidy(outlet: str) -> str:
    # A credit in capitals ("REUTERS") is the outlet's name, not an acronym ("AFP" stays).
    outlet = outlet.strip()
    if outlet.isascii() and outlet.isupper() and len(outlet) > 4:
        return outlet.title()
    return outlet

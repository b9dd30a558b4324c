"""Outlet and date read from the article's own text (rag/metadata.py, through the cleaner)."""

from pathlib import Path

import pytest

from rag.cleaner import ArticleCleaner
from rag.metadata import article_metadata

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
# Outlets the seed articles name: a dateline (000), "المصدر:" lines (002, 004). 001 and 003
# name none (only outlets they quote, e.g. "وكالة إنترفاكس"), so they keep an empty source.
SEED_OUTLETS = {"000_6e296b17c1da352f.txt": "رويترز", "001_0f7e11fcbccc7f40.txt": "",
                "002_687531a2e5c0bf49.txt": "وكالة الصحافة المستقلة",
                "003_f262f470ec2870cc.txt": "", "004_99c36a4a58da5804.txt": "البوابة نيوز"}


def host(page: str):
    return ArticleCleaner().clean(page, "p.txt", "h")[0]


def test_every_seed_article_gets_the_outlet_it_names():
    for name, outlet in SEED_OUTLETS.items():
        text = (SEEDS / name).read_text(encoding="utf-8")
        assert host(text).source == outlet, name


def test_photo_credit_names_the_outlet_when_there_is_no_dateline():
    # Seed 000 without its "واشنطن-رويترز" dateline: the caption's "- REUTERS" still names it.
    text = (SEEDS / "000_6e296b17c1da352f.txt").read_text(encoding="utf-8")
    assert host(text.replace("واشنطن-رويترز", "")).source == "Reuters"


@pytest.mark.parametrize(("page", "outlet", "published"), [
    (("Storm closes ports\n\nOSLO, March 3, 2024 - A storm closed three ports.\n\n"
     "Source: Nordic Coast Gazette\n"), "Nordic Coast Gazette", "2024-03-03"),
    ("Talks stall\n\nKYIV (Reuters) - Talks stalled on Monday, officials said.\n",
     "Reuters", ""),
    (("Kim arrives\n\nKim Jong Un steps off his train. REUTERS/Kevin Lamarque\n\n"
     "Kim arrived in Russia on Tuesday, 12 September 2023, officials said.\n"),
     "Reuters", "2023-09-12"),
    ("Ceasefire talks\n\nDelegates meet in Cairo (Photo: AFP)\n\nTalks went on.\n",
     "AFP", ""),
    ("محادثات\n\nوفود في القاهرة. صورة: أرشيفية/رويترز\n\nتواصلت المحادثات.\n", "رويترز", ""),
    ("عنوان الخبر\n\nنص الخبر الأول.\n\nالمصدر: الجزيرة نت\n", "الجزيرة نت", ""),
    ("عنوان\n\nالقاهرة (أ ف ب) - قال مسؤول اليوم إن المحادثات مستمرة.\n", "أ ف ب", ""),
])
def test_outlet_and_date_from_english_and_arabic_pages(page, outlet, published):
    doc = host(page)
    assert (doc.source, doc.date) == (outlet, published)


def test_an_agency_named_inside_a_long_paragraph_is_no_credit():
    long = ("Officials met on Monday and talked for hours about the plan. " * 6 +
            "They spoke to the press afterwards - Reuters")
    assert article_metadata([], ["Title", long], long) == ("", "")


def test_a_photographer_alone_is_no_outlet():
    assert article_metadata([], ["Title", "A crowd in the square. Photo: Jane Doe"], "") == \
        ("", "")

import hashlib
import re
from pathlib import Path

import pytest

from rag.cleaner import ArticleCleaner
from rag.language import detect_language
from rag.loader import ArticleLoader
from rag.metadata import find_date

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# (kind, title, date, source, first words of the last paragraph), read off the seed pages.
EXPECTED = {
    "000_6e296b17c1da352f.txt": [
        ("article", "الولايات المتحدة تحث كوريا الشمالية على وقف بيع أسلحة لروسيا",
         "2023-07-26", "رويترز", "وبدأت كوريا الجنوبية والولايات المتحدة الأسبوع الماضي"),
    ],
    "001_0f7e11fcbccc7f40.txt": [
        ("article", "واشنطن: كيم جونغ أون سيلتقي بوتين في روسيا لبحث تزويد موسكو بأسلحة",
         "", "", "وقالت يونهاب إن جهاز المخابرات الوطنية"),
        ("teaser", "كيم يعتزم إجراء مباحثات مع بوتين في روسيا",
         "", "", "وأضافت “كما حذرنا علناً"),
    ],
    "002_687531a2e5c0bf49.txt": [
        ("article", "بلينكن يعبر عن قلقه من زيادة التعاون العسكري بين روسيا و كوريا الشمالية",
         "2023-11-09", "وكالة الصحافة المستقلة", "و يعتقد أن كوريا الشمالية تستعد"),
        ("teaser",
         ("صواريخنا قادرة على الوصول للبرّ الرئيسي بأمريكا.. كوريا الشمالية: على واشنطن التخلي عن"
         " تهديداتها العسكرية"),
         "", "", "وذكرت وكالة الأنباء المركزية أن “عام 2025"),
    ],
    "003_f262f470ec2870cc.txt": [
        # No headline on this page: the title is the lede's first sentence, shortened.
        ("article",
         ("حذّر مستشار الأمن القومي الأمريكي، جيك سوليفان، كوريا الشمالية من \"دفع الثمن\" بشأن"
         " تزويد…"),
         "2023-09-05", "", "وسبق أن حذرت واشنطن من أن كوريا الشمالية"),
    ],
    "004_99c36a4a58da5804.txt": [
        ("article",
         ("كيم جونغ يزور روسيا.. والبيت الأبيض يحذر كوريا الشمالية من إبرام أي صفقة أسلحة مع"
         " موسكو"),
         "2023-09-12", "البوابة نيوز", "وأضاف أن البلدين سيتجنبان"),
        ("teaser", "صفقة أسلحة مع إسرائيل تهدد الائتلاف الإسباني الحاكم",
         "", "", "في حين قال وزير الخارجية الإسباني"),
    ],
}
BOILERPLATE = [
    "time reading icon", "دقائق القراءة", "اقرأ أيضاً", "إقرأ أيضاً", "اقرأ المزيد",
    "كلمات دلالية", "تصنيفات", "Related Nodes", "يحتوي هذا القسم", "Home News", "تاريخ النشر",
    "آخر تحديث", "المصدر:", "http", "reuters.com",
]


@pytest.fixture(scope="module")
def corpus():
    cleaner = ArticleCleaner()
    docs = {}
    for path in sorted(SEEDS.glob("*.txt")):
        loaded = ArticleLoader().load(path)
        docs[path.name] = cleaner.clean(loaded.text, path.name, loaded.sha256)
    return docs


def _all(corpus):
    return [doc for docs in corpus.values() for doc in docs]


def test_seed_files_are_the_expected_ones(corpus):
    assert sorted(corpus) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_documents_and_metadata_per_seed(corpus, name):
    docs = corpus[name]
    assert len(docs) == len(EXPECTED[name])
    for doc, (kind, title, date, source, last) in zip(docs, EXPECTED[name], strict=True):
        assert (doc.kind, doc.title, doc.date, doc.source) == (kind, title, date, source)
        assert doc.language == "ar"
        assert doc.text.split("\n\n")[-1].startswith(last)


def test_seed_total(corpus):
    assert [d.kind for d in _all(corpus)].count("article") == 5
    assert [d.kind for d in _all(corpus)].count("teaser") == 3


def test_no_boilerplate_survives(corpus):
    for doc in _all(corpus):
        for phrase in BOILERPLATE:
            assert phrase not in doc.text, (doc.doc_id, phrase)
            assert phrase not in doc.title
        for paragraph in doc.text.split("\n\n"):
            assert not re.fullmatch(r"[\d\s]+", paragraph), (doc.doc_id, "share counter")
            assert not paragraph.startswith("إعلان"), (doc.doc_id, paragraph[:20])


def test_paragraphs_are_separated_by_one_blank_line(corpus):
    for doc in _all(corpus):
        assert doc.text == doc.text.strip()
        assert "\n\n\n" not in doc.text
        assert not re.search(r"(?<!\n)\n(?!\n)", doc.text), doc.doc_id
        assert all(p.strip() == p and p for p in doc.text.split("\n\n"))


def test_repeated_caption_kept_once(corpus):
    (doc,) = corpus["000_6e296b17c1da352f.txt"]
    assert doc.text.count("جون كيربي خلال مؤتمر صحافي في واشنطن. 26 يوليو 2023 - REUTERS") == 1
    assert "واشنطن-رويترز" in doc.text  # the dateline is article text, kept


def test_title_is_the_first_paragraph_and_not_repeated(corpus):
    host = corpus["001_0f7e11fcbccc7f40.txt"][0]
    paragraphs = host.text.split("\n\n")
    assert paragraphs[0] == host.title
    assert paragraphs.count(host.title) == 1


def test_teasers_are_not_in_their_host(corpus):
    for name, docs in corpus.items():
        hosts = [d for d in docs if d.kind == "article"]
        for teaser in (d for d in docs if d.kind == "teaser"):
            assert teaser.text.split("\n\n")[0] == teaser.title
            for paragraph in teaser.text.split("\n\n"):
                assert all(paragraph not in host.text for host in hosts), (name, paragraph[:30])
    spain = corpus["004_99c36a4a58da5804.txt"]
    assert "سانشيز" not in spain[0].text and "سانشيز" in spain[1].text
    assert spain[1].text.count("\n\n") == 14  # headline + 14 body paragraphs
    assert "ويتناقض العقد مع التزام حكومة سانشيز" in spain[1].text  # "إعلان" label unglued


def test_doc_ids_are_stable_and_content_addressed(corpus):
    for name, docs in corpus.items():
        raw = (SEEDS / name).read_bytes()
        for n, doc in enumerate(docs):
            # The file's hash is in the id: one teaser in two files is two documents.
            digest = hashlib.sha256((doc.content_hash + doc.text).encode("utf-8"))
            assert doc.doc_id == f"{name}#{n}:{digest.hexdigest()[:12]}"
            assert doc.content_hash == hashlib.sha256(raw).hexdigest()
            assert doc.source_file == name
    text = (SEEDS / name).read_text("utf-8")
    again = ArticleCleaner().clean(text, name, corpus[name][0].content_hash)
    assert [d.doc_id for d in again] == [d.doc_id for d in corpus[name]]
    other = ArticleCleaner().clean(text, name, "another file's hash")
    assert not {d.doc_id for d in other} & {d.doc_id for d in corpus[name]}


ENGLISH_MARKDOWN = """# Kim and Putin meet in Vladivostok

Published: September 13, 2023

WASHINGTON (Reuters) - Kim Jong Un met Vladimir Putin on Wednesday, the Kremlin said.

Share

The U.S. warned of new sanctions. Officials said talks lasted 4.5 hours.

## Arms talks

Analysts expect an arms deal.

Tags: Russia, North Korea

Read more:

Blinken visits Seoul amid Gaza and Ukraine wars

Secretary of State Antony Blinken arrived in Seoul on Wednesday, Nov. 8, 2023.

He met his South Korean counterpart.

China's exports fall for a sixth month in a row

Exports fell 6.4 percent in October, customs data showed on 7 November 2023.

Oil prices steady
"""


def test_english_markdown_article():
    docs = ArticleCleaner().clean(ENGLISH_MARKDOWN, "kim.md", "abc")
    assert [(d.kind, d.title, d.date, d.source, d.language) for d in docs] == [
        ("article", "Kim and Putin meet in Vladivostok", "2023-09-13", "Reuters", "en"),
        ("teaser", "Blinken visits Seoul amid Gaza and Ukraine wars", "2023-11-08", "", "en"),
        ("teaser", "China's exports fall for a sixth month in a row", "2023-11-07", "", "en"),
    ]
    host = docs[0].text.split("\n\n")
    assert host[0] == "Kim and Putin meet in Vladivostok"
    assert "Arms talks" in host and "Share" not in host
    assert not any("Tags" in p or "Published" in p or p.startswith("#") for p in host)
    assert "Oil prices steady" not in " ".join(d.text for d in docs)  # a bare link, dropped
    assert docs[1].text.endswith("He met his South Korean counterpart.")


def test_title_only_teasers_can_be_kept():
    docs = ArticleCleaner(keep_title_only_teasers=True).clean(ENGLISH_MARKDOWN, "kim.md", "abc")
    assert docs[-1].title == "Oil prices steady" and docs[-1].text == "Oil prices steady"


def test_teaser_subheading_stays_in_its_teaser():
    page = (
        "عنوان المقال الرئيسي\n\nنص المقال الرئيسي هنا.\n\nاقرأ أيضاً\n\n"
        "عنوان مقال آخر عن الانتخابات في البلاد\n\nفقرة أولى من المقال الآخر.\n\n"
        "نتائج أولية\n\nفقرة ثانية بعد العنوان الفرعي.\n"
    )
    docs = ArticleCleaner().clean(page, "p.txt", "h")
    assert [d.title for d in docs] == ["عنوان المقال الرئيسي", "عنوان مقال آخر عن الانتخابات في البلاد"]
    assert docs[1].text.split("\n\n")[1:] == [
        "فقرة أولى من المقال الآخر.", "نتائج أولية", "فقرة ثانية بعد العنوان الفرعي."
    ]


def test_inline_read_also_link_does_not_cut_the_article():
    page = (
        "عنوان الخبر\n\nالفقرة الأولى.\n\nاقرأ أيضاً: روسيا تختبر صاروخاً جديداً\n\n"
        "الفقرة الثانية من الخبر نفسه.\n"
    )
    (doc,) = ArticleCleaner().clean(page, "p.txt", "h")
    assert doc.text == "عنوان الخبر\n\nالفقرة الأولى.\n\nالفقرة الثانية من الخبر نفسه."


def test_explicit_publication_date_beats_earlier_dates():
    page = "عنوان\nصورة من الأرشيف، 3 مارس 2020 - رويترز\nتاريخ النشر: ١٢ تشرين الثاني ٢٠٢٣\nنص."
    (doc,) = ArticleCleaner().clean(page, "p.txt", "h")
    assert doc.date == "2023-11-12"
    assert "تاريخ النشر" not in doc.text


def test_teaser_metadata_is_its_own():
    page = (
        "عنوان الخبر الرئيسي\nتاريخ النشر: 1 مارس 2024\nنص الخبر.\nالمصدر: رويترز\n"
        "إقرأ أيضاً:\nعنوان خبر آخر عن الاقتصاد العالمي اليوم\nتاريخ النشر: 2 أبريل 2025\n"
        "نص الخبر الآخر.\nالمصدر: الجزيرة\n"
    )
    host, teaser = ArticleCleaner().clean(page, "p.txt", "h")
    assert (host.date, host.source, host.text) == (
        "2024-03-01", "رويترز", "عنوان الخبر الرئيسي\n\nنص الخبر."
    )
    assert (teaser.date, teaser.source, teaser.text) == (
        "2025-04-02", "الجزيرة", "عنوان خبر آخر عن الاقتصاد العالمي اليوم\n\nنص الخبر الآخر."
    )


def test_history_line_with_a_date_is_not_a_publication_line():
    page = "عنوان\nتاريخ العلاقات بين البلدين يعود إلى 12 مارس 1990\nنص."
    (doc,) = ArticleCleaner().clean(page, "p.txt", "h")
    assert "تاريخ العلاقات" in doc.text and doc.date == "1990-03-12"


def test_source_from_url_line_when_no_outlet_named():
    page = "Title here\n\nBody sentence.\n\nSource: https://www.apnews.com/article/x?utm=1\n"
    (doc,) = ArticleCleaner().clean(page, "p.txt", "h")
    assert doc.source == "apnews.com" and "http" not in doc.text


def test_glued_ad_label_removed_but_real_words_kept():
    page = "عنوان\n\nإعلانوقال المسؤول إن الاتفاق تم.\n\nإعلانات الشركة زادت هذا العام.\n\nإعلان\n"
    (doc,) = ArticleCleaner().clean(page, "p.txt", "h")
    assert doc.text == "عنوان\n\nوقال المسؤول إن الاتفاق تم.\n\nإعلانات الشركة زادت هذا العام."


def test_hard_wrapped_text_is_unwrapped():
    page = (
        "Kim visits Russia\n"
        "Kim Jong Un arrived in Russia on Tuesday for talks with Vladimir\n"
        "Putin, officials said, raising fears of an arms deal between the two\n"
        "countries that are both under heavy Western sanctions.\n"
        "The White House warned Pyongyang against selling weapons to Moscow\n"
        "and said it would impose new sanctions if a deal went ahead, a spokes-\n"
        "man said.\n"
    )
    (doc,) = ArticleCleaner().clean(page, "kim.txt", "h")
    assert doc.text.split("\n\n") == [
        "Kim visits Russia",
        (
            "Kim Jong Un arrived in Russia on Tuesday for talks with Vladimir Putin, officials "
            "said, raising fears of an arms deal between the two countries that are both under "
            "heavy Western sanctions."
        ),
        (
            "The White House warned Pyongyang against selling weapons to Moscow and said it "
            "would impose new sanctions if a deal went ahead, a spokesman said."
        ),
    ]


def test_page_of_only_boilerplate_gives_no_documents():
    assert ArticleCleaner().clean("time reading iconدقائق القراءة - 4\n5\n0\nتصنيفات\n", "x", "h") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("تاريخ النشر: 9th, November 2023 GMT", "2023-11-09"),
        ("في واشنطن. 26 يوليو 2023 - REUTERS", "2023-07-26"),
        ("الثلاثاء 5 سبتمبر/أيلول 2023، مشيراً", "2023-09-05"),
        ("الإثنين 4 سبتمبر (أيلول) 2023", "2023-09-04"),
        ("نوفمبر 9, 2023آخر تحديث", "2023-11-09"),
        ("٢٦ يوليو ٢٠٢٣", "2023-07-26"),
        ("12 تشرين الثاني 2023", "2023-11-12"),
        ("1 كانون الثاني 2024", "2024-01-01"),
        ("on Sept. 5, 2023 in Seoul", "2023-09-05"),
        ("updated 2023-11-09T10:00Z", "2023-11-09"),
        ("نشر في 09/11/2023", "2023-11-09"),
        ("first 3 March 2020, then 1 April 2021", "2020-03-03"),
        ("31 فبراير 2023", ""),
        ("في سبتمبر الماضي", ""),
        ("السابع من تشرين الأول/أكتوبر 2023", ""),
    ],
)
def test_find_date(text, expected):
    assert find_date(text) == expected


def test_detect_language():
    assert detect_language("قال المتحدث باسم Pentagon إن الاجتماع انتهى") == "ar"
    assert detect_language("The Kremlin said Kim arrived (كيم).") == "en"

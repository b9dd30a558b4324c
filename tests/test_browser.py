"""The web app in a real browser (Debian's Chromium through Playwright).

Runs against the app started by tests/test_app_api.py's `app_server()` (small LLM, a temporary
index of the seeds, 1 MB upload limit). Every request the page makes is routed through a
check: anything not addressed to the loopback interface is blocked and recorded, and the
last test asserts there was none. Screenshots of the main states go to
test-output/screenshots/.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_app_api import UPLOAD_LIMIT_MB, app_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "screenshots"
ANSWER_TIMEOUT_MS = 240_000  # the 0.5B model on two busy cores, plus model loading
ARABIC_QUESTION = "لماذا سافر وزير الدفاع الروسي إلى كوريا الشمالية؟"
ENGLISH_QUESTION = "Who is John Kirby?"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
UPLOAD_NAME = "zz_lighthouse_note.txt"
UPLOAD_TEXT = ("The Zorbanian lighthouse festival\n\n"
               "The Zorbanian lighthouse festival opened on Tuesday in the harbour town of "
               "Velmora, where keepers lit all forty lamps at once for the first time since "
               "1911. Organisers said twelve thousand visitors came to watch.\n")

external_requests: list[str] = []


@pytest.fixture(scope="module")
def server():
    return app_server()


def guard(route) -> None:
    """Let loopback requests through; block and record anything else."""
    url = route.request.url
    host = urlparse(url).hostname or ""
    if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
        route.continue_()
    else:
        external_requests.append(url)
        route.abort()


def new_context(browser, locale: str = "en-US"):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale=locale)
    context.route("**/*", guard)
    return context


@pytest.fixture
def page(browser, server):
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url)
    page.wait_for_selector("#chatlog .chat")
    yield page
    context.close()


def shot(page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def wait_for_models(page) -> None:
    page.wait_for_function(
        "document.querySelectorAll('#status .dot.ok').length >= 3", timeout=180_000)


def ask(page, question: str) -> object:
    """Type a question, send it with Enter, and wait for the finished answer."""
    before = page.locator("#chatlog .msg.bot").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#chatlog .msg.bot').length > {before} && "
        "!document.querySelector('#chatlog .msg.pending')", timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#chatlog .msg.bot").last


def no_traceback(page) -> None:
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and 'File "' not in text


def open_documents_tab(page) -> None:
    wait_for_models(page)
    page.click("#tab-documents-button")
    page.wait_for_selector("#docs-list table.docs")


# ---------------------------------------------------------------------------------- tests


def test_first_page_loads_with_local_arabic_font(page):
    wait_for_models(page)
    assert page.locator("#chatlog .intro").is_visible()
    assert page.locator("button.example").count() == 4
    loaded = page.evaluate("""async () => {
        await document.fonts.load('16px "Noto Sans Arabic UI"', 'مرحبا');
        return document.fonts.check('16px "Noto Sans Arabic UI"', 'مرحبا');
    }""")
    assert loaded, "the bundled Arabic font did not load"
    status = page.locator("#status").inner_text()
    assert "8 articles" in status or "articles" in status
    shot(page, "01_start")


def test_arabic_question_gives_rtl_answer_with_cited_source(page):
    wait_for_models(page)
    box = page.locator("#question textarea")
    box.fill("سؤال")
    assert box.evaluate("e => getComputedStyle(e).direction") == "rtl"  # dir="auto"
    box.fill("")
    # The example button sends the seed question.
    page.locator("button.example", has_text=ARABIC_QUESTION).click()
    page.wait_for_function(
        "document.querySelector('#chatlog .msg.bot') && "
        "!document.querySelector('#chatlog .msg.pending')", timeout=ANSWER_TIMEOUT_MS)
    answer = page.locator("#chatlog .msg.bot").last
    assert page.locator("#chatlog .msg.user").last.inner_text().endswith(ARABIC_QUESTION)
    assert answer.get_attribute("dir") == "rtl"
    assert answer.get_attribute("lang") == "ar"
    assert answer.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert answer.evaluate("e => getComputedStyle(e).textAlign") in ("right", "start")
    user = page.locator("#chatlog .msg.user").last
    assert user.get_attribute("dir") == "rtl"
    shot(page, "02_arabic_answer")

    links = answer.locator("a.cite")
    assert links.count() >= 1, answer.inner_text()
    target = links.first.get_attribute("href").lstrip("#")
    links.first.click()
    source = page.locator(f"#{target}")
    source.wait_for()
    page.wait_for_timeout(800)  # smooth scrolling
    assert source.is_visible()
    assert source.get_attribute("dir") == "rtl"
    assert source.locator("mark.hl").count() >= 1
    # The right article: the one that reports Shoigu's trip to North Korea.
    article = source.locator(".article-text").text_content()
    assert re.search("شويجو|شويغو", article) and "كوريا الشمالية" in article
    assert source.locator(".meta").inner_text().strip()

    # Open the whole article, scrolled to the cited sentence.
    source.locator("details.article summary").click()
    mark = source.locator(".article-text mark.hl")
    mark.wait_for()
    page.wait_for_timeout(500)
    inside = source.locator(".article-text").evaluate("""box => {
        const m = box.querySelector('mark.hl').getBoundingClientRect();
        const b = box.getBoundingClientRect();
        return m.top >= b.top - 1 && m.top < b.bottom && box.scrollHeight > box.clientHeight
            ? 'visible-in-scrolled-box' : (m.top >= b.top - 1 && m.bottom <= b.bottom + 1
            ? 'visible' : 'hidden');
    }""")
    assert inside.startswith("visible"), inside
    shot(page, "03_article_view")
    no_traceback(page)


def test_english_question_gives_ltr_answer(page):
    wait_for_models(page)
    answer = ask(page, ENGLISH_QUESTION)
    assert answer.get_attribute("dir") == "ltr"
    assert answer.get_attribute("lang") == "en"
    assert answer.locator(".body").inner_text().strip()
    assert page.locator("#status .timings").is_visible()
    shot(page, "04_english_answer")
    no_traceback(page)
    page.click("#new-chat")
    page.locator("#chatlog .intro").wait_for()
    assert page.locator("#chatlog .msg").count() == 0
    assert page.locator("#sources .source").count() == 0


def test_empty_message_gets_a_friendly_notice(page):
    page.click("#send")
    notice = page.locator("#notice .notice")
    notice.wait_for()
    assert "Please type a question first." in notice.inner_text()
    assert page.locator("#chatlog .msg").count() == 0
    no_traceback(page)
    shot(page, "05_empty_message")


def test_upload_a_document_then_find_it(page, tmp_path):
    wait_for_models(page)
    open_documents_tab(page)
    path = tmp_path / UPLOAD_NAME
    path.write_text(UPLOAD_TEXT, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(path))
    report = page.locator("#upload-report")
    report.wait_for(timeout=180_000)
    assert UPLOAD_NAME in report.inner_text()
    assert "added" in report.inner_text() or "unchanged" in report.inner_text()
    page.wait_for_selector(f'#docs-list tr[data-file="{UPLOAD_NAME}"]')
    row = page.locator(f'#docs-list tr[data-file="{UPLOAD_NAME}"]')
    assert "Zorbanian" in row.inner_text()
    shot(page, "06_uploaded", full_page=True)

    page.click("#tab-search-button")
    page.fill("#search-query textarea, #search-query input", "Zorbanian lighthouse festival")
    page.click("#search-button")
    first = page.locator("#search-results article.source").first
    first.wait_for(timeout=120_000)
    assert UPLOAD_NAME in first.inner_text()
    shot(page, "07_search")

    # Remove it again.
    open_documents_tab(page)
    page.locator("#remove-files input").click()
    page.locator("#remove-files input").fill("zz_lighthouse")
    page.get_by_role("option", name=re.compile(UPLOAD_NAME)).click()
    page.click("#remove-button")
    page.locator("#remove-question").wait_for()  # asks first
    page.click("#remove-yes")
    page.wait_for_function(
        f"!document.querySelector('#docs-list tr[data-file=\"{UPLOAD_NAME}\"]') && "
        "document.querySelector('#docs-list table.docs')", timeout=120_000)
    assert "Removed" in page.locator("#docs-report").inner_text()


def test_oversized_and_wrong_type_uploads_are_refused_clearly(page, tmp_path):
    open_documents_tab(page)
    big = tmp_path / "too_big.txt"
    big.write_bytes(b"news " * (UPLOAD_LIMIT_MB * 2**20 // 5 + 50_000))
    page.locator("#upload input[type=file]").set_input_files(str(big))
    message = page.locator("#upload-report")
    message.first.wait_for(timeout=60_000)
    assert f"the limit is {UPLOAD_LIMIT_MB} MB per file" in message.first.inner_text()
    shot(page, "08_oversized_upload")
    no_traceback(page)
    assert not page.locator('#docs-list tr[data-file="too_big.txt"]').count()

    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    page.locator("#upload input[type=file]").set_input_files(str(picture))
    refused = page.get_by_text(re.compile(r"Invalid file type|not supported"))
    refused.first.wait_for(timeout=60_000)
    page.wait_for_timeout(800)  # the toast fades in
    shot(page, "09_wrong_type_upload")
    assert ".txt" in refused.first.inner_text()
    no_traceback(page)


def test_arabic_interface(page):
    page.click("#lang-toggle label:has-text('العربية')")
    page.wait_for_function("document.querySelector('#send')?.innerText.includes('اسأل')")
    assert page.evaluate(
        "getComputedStyle(document.querySelector('.gradio-container')).direction") == "rtl"
    # Gradio updates the tab labels after the buttons: wait for them rather than race.
    page.wait_for_function(
        "document.querySelector('#tab-chat-button')?.innerText.includes('المحادثة')")
    assert "المحادثة" in page.locator("#tab-chat-button").inner_text()
    page.click("#send")  # empty: the notice is in Arabic now
    page.locator("#notice .notice").wait_for()
    assert "يُرجى كتابة سؤال أولاً" in page.locator("#notice").inner_text()
    shot(page, "10_arabic_interface")


def test_browser_language_picks_the_interface(browser, server):
    context = new_context(browser, locale="ar-EG")
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_function("document.querySelector('#send')?.innerText.includes('اسأل')",
                           timeout=30_000)
    context.close()


def test_no_request_left_the_machine():
    assert external_requests == []

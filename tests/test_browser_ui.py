"""The app as a new user finds it, in a real browser (Debian's Chromium through Playwright):
the Arabic interface right to left in every panel, chat controls that never drop a question,
search that says when nothing is relevant, and a layout that works 390 px wide.

Uses the app and helpers of tests/test_browser.py (same server, same guard against requests
leaving the machine). Screenshots in both languages and at both widths go to
test-output/screenshots/ (ui_*.png).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_browser as tb

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PHONE = {"width": 390, "height": 844}
OFF_TOPIC = "What is the population of Brazil?"  # tests/questions/offtopic.jsonl


@pytest.fixture(scope="module")
def server():
    return tb.app_server()


def open_page(browser, server, lang: str = "en", viewport: dict | None = None):
    context = browser.new_context(viewport=viewport or {"width": 1360, "height": 900},
                                  locale="ar-EG" if lang == "ar" else "en-US")
    context.route("**/*", tb.guard)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url)
    page.wait_for_selector("#chatlog .chat")
    tb.wait_for_models(page)
    if lang == "ar":
        page.wait_for_function("document.querySelector('#send')?.innerText.includes('اسأل')")
    return context, page


def switch_to_arabic(page) -> None:
    page.click("#lang-toggle label:has-text('العربية')")
    page.wait_for_function("document.documentElement.lang === 'ar' && "
                           "document.querySelector('#send')?.innerText.includes('اسأل')")


def direction(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).direction")


def search(page, query: str) -> None:
    page.click("#tab-search-button")
    page.fill("#search-query textarea, #search-query input", query)
    # The results themselves must change: Gradio's progress marker changes the box at once.
    script = "document.querySelector('#search-results .rag-panel')?.outerHTML || ''"
    before = page.evaluate(script)
    page.click("#search-button")
    page.wait_for_function(f"(before) => {{ const now = {script}; return now && now !== before; }}",
                           arg=before, timeout=120_000)


# ---------------------------------------------------------------------------------- tests


def test_arabic_panels_run_right_to_left_and_gradio_strings_are_arabic(browser, server):
    context, page = open_page(browser, server)
    switch_to_arabic(page)
    page.click("#tab-documents-button")
    page.wait_for_selector("#docs-list .rag-panel[dir=rtl] table.docs")
    panel = page.locator("#docs-list .rag-panel")
    assert direction(panel) == "rtl"
    # The first column (title) is on the right, the last (passages) on the left.
    xs = page.evaluate("[...document.querySelectorAll('#docs-list th')]"
                       ".map(th => th.getBoundingClientRect().x)")
    assert xs == sorted(xs, reverse=True), xs
    # The count reads in Arabic order: "8 مستنداً من 5 ملفات، 63 مقطعاً" starts on the right.
    count = panel.locator("p.muted")
    assert direction(count) == "rtl" and count.inner_text().startswith("8 مستند")
    # Gradio's own strings: the upload box and the footer.
    upload = page.locator("#upload").inner_text()
    assert "Drop File Here" not in upload and "Click to Upload" not in upload, upload
    footer = page.locator("footer").inner_text()
    assert "Use via API" not in footer, footer
    tb.shot(page, "ui_documents_ar_desktop", full_page=True)
    # The sources panel too, before any answer.
    page.click("#tab-chat-button")
    assert direction(page.locator("#sources .rag-panel")) == "rtl"
    assert page.locator("#sources h2").evaluate(
        "h => getComputedStyle(h).textAlign") in ("right", "start")
    context.close()


def test_seed_outlets_are_shown(browser, server):
    context, page = open_page(browser, server)
    tb.open_documents_tab(page)
    row = page.locator('#docs-list tr[data-file="000_6e296b17c1da352f.txt"]')
    assert "رويترز" in row.inner_text()
    assert "البوابة نيوز" in page.locator(
        '#docs-list tr[data-file="004_99c36a4a58da5804.txt"]').first.inner_text()
    context.close()


def test_search_admits_nothing_relevant_marks_query_words_and_follows_the_language(browser,
                                                                                    server):
    context, page = open_page(browser, server)
    search(page, OFF_TOPIC)
    results = page.locator("#search-results")
    assert page.locator("#search-none").is_visible()
    assert results.locator("article.source").count() == 0
    assert "No relevant passage" in results.inner_text()

    search(page, "بيسكوف")  # the Kremlin spokesman, as the articles spell him
    first = results.locator("article.source").first
    assert "بيسكوف" in first.locator("mark.qw").first.inner_text()
    search(page, "شويغو بيونغ يانغ")
    assert results.locator("mark.qw").count() >= 3
    tb.shot(page, "ui_search_en_desktop")
    search(page, "Kremlin spokesman")  # from English, the passage that quotes him comes first
    assert "بيسكوف" in results.locator("article.source").first.inner_text()

    switch_to_arabic(page)  # the results already shown are shown again in Arabic
    page.wait_for_selector("#search-results .rag-panel[dir=rtl] .score:has-text('التشابه')")
    assert direction(results.locator(".rag-panel")) == "rtl"
    assert "unknown source" not in results.inner_text() and "no date" not in results.inner_text()
    tb.shot(page, "ui_search_ar_desktop")
    context.close()


def test_enter_after_new_chat_during_an_answer_and_a_second_question_while_busy(browser,
                                                                                server):
    context, page = open_page(browser, server)
    box = page.locator("#question textarea")
    box.fill(tb.ENGLISH_QUESTION)
    box.press("Enter")
    page.wait_for_selector("#chatlog .msg.bot.pending")
    assert page.locator("#stop").is_visible()  # the busy state

    # A second question while the answer is written: refused with a message, kept in the box.
    box.fill("What did Blinken say?")
    box.press("Enter")
    page.locator("#notice .notice").wait_for()
    assert "still being written" in page.locator("#notice").inner_text()
    assert box.input_value() == "What did Blinken say?"
    assert page.locator("#chatlog .msg.user").count() == 1
    tb.shot(page, "ui_busy_en_desktop")

    # New chat during the answer, then Enter: the question is sent and answered, no error.
    page.click("#new-chat")
    page.locator("#chatlog .intro").wait_for()
    box.fill(tb.ENGLISH_QUESTION)
    box.press("Enter")
    page.wait_for_selector("#chatlog .msg.user")
    page.wait_for_function("document.querySelector('#chatlog .msg.bot') && "
                           "!document.querySelector('#chatlog .msg.pending')",
                           timeout=tb.ANSWER_TIMEOUT_MS)
    assert page.locator("#chatlog .msg.user").count() == 1
    assert page.locator("#chatlog .msg.bot.error").count() == 0
    assert "Error" not in page.locator("body").inner_text()
    page.wait_for_function("!document.querySelector('#stop')?.offsetParent")  # not busy
    # The view follows the answer: the last bubble's bottom is inside the log.
    inside = page.evaluate("""() => {
        const log = document.getElementById('chatlog');
        const last = [...log.querySelectorAll('.msg')].pop().getBoundingClientRect();
        return last.bottom <= log.getBoundingClientRect().bottom + 2;
    }""")
    assert inside
    tb.shot(page, "ui_answer_en_desktop")
    tb.no_traceback(page)
    context.close()


def test_stop_ends_the_answer_and_keeps_it(browser, server):
    context, page = open_page(browser, server, lang="ar")
    box = page.locator("#question textarea")
    box.fill(tb.ARABIC_QUESTION)
    page.click("#send")
    page.wait_for_selector("#chatlog .msg.bot.pending")
    page.click("#stop")
    page.wait_for_function("!document.querySelector('#chatlog .msg.pending')",
                           timeout=tb.ANSWER_TIMEOUT_MS)
    assert page.locator("#chatlog .msg.user").count() == 1
    assert page.locator("#chatlog .msg.bot").count() == 1
    assert "أُوقفت قبل نهايتها" in page.locator("#chatlog .msg.bot").inner_text()
    assert direction(page.locator("#sources .rag-panel")) == "rtl"
    tb.shot(page, "ui_stopped_ar_desktop")
    # Ask works again at once.
    box.fill(tb.ARABIC_QUESTION)
    page.click("#send")
    page.wait_for_function("document.querySelectorAll('#chatlog .msg.user').length === 2")
    page.click("#new-chat")
    context.close()


def test_remove_asks_for_confirmation(browser, server, tmp_path):
    context, page = open_page(browser, server, lang="ar")
    tb.open_documents_tab(page)
    path = tmp_path / "zz_confirm_note.txt"
    path.write_text(tb.UPLOAD_TEXT, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_selector('#docs-list tr[data-file="zz_confirm_note.txt"]', timeout=180_000)
    page.locator("#remove-files input").click()
    page.locator("#remove-files input").fill("zz_confirm")
    page.get_by_role("option", name="zz_confirm_note.txt", exact=False).click()
    page.click("#remove-button")
    question = page.locator("#remove-question")
    question.wait_for()
    assert "أتحذف" in question.inner_text() and "zz_confirm_note.txt" in question.inner_text()
    assert page.locator("#docs-list tr[data-file='zz_confirm_note.txt']").count() == 1
    tb.shot(page, "ui_remove_confirm_ar_desktop")
    page.click("#remove-no")
    page.wait_for_function("!document.querySelector('#remove-question')")
    assert page.locator("#docs-list tr[data-file='zz_confirm_note.txt']").count() == 1

    page.click("#remove-button")
    page.locator("#remove-question").wait_for()
    page.click("#remove-yes")
    page.wait_for_function("!document.querySelector('#docs-list tr[data-file=\"zz_confirm_note.txt\"]')"
                           " && document.querySelector('#remove-report')", timeout=120_000)
    said = page.locator("#remove-report").inner_text()
    assert "حُذف" in said and "zz_confirm_note.txt" in said and "مقاطع" in said
    context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_phone_width_question_box_in_view_and_documents_as_a_list(browser, server, lang):
    context, page = open_page(browser, server, lang=lang, viewport=PHONE)
    box = page.locator("#question textarea").bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box  # no scrolling to find it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tb.shot(page, f"ui_start_{lang}_phone")
    tb.open_documents_tab(page)
    assert page.locator("#docs-list thead").evaluate("e => getComputedStyle(e).display") == \
        "none"
    row = page.locator("#docs-list tbody tr").first
    assert row.evaluate("e => getComputedStyle(e).display") == "block"
    # A title is read in lines, not one word per line.
    title = row.locator("td.title").bounding_box()
    assert title["width"] >= 250, title
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tb.shot(page, f"ui_documents_{lang}_phone", full_page=True)
    context.close()


def test_screenshots_of_the_start_in_both_languages_at_desktop_width(browser, server):
    for lang in ("en", "ar"):
        context, page = open_page(browser, server, lang=lang)
        tb.shot(page, f"ui_start_{lang}_desktop")
        context.close()


def test_no_request_left_the_machine():
    assert tb.external_requests == []

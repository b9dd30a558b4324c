"""Output safety in the browser: article text and file names full of HTML, scripts and links.

Two payload articles go into the shared app's index: one ingested directly under a file name
that is itself HTML (as `rag ingest` would take it from disk), one uploaded through the page.
The page then searches for, cites and opens them in Debian's Chromium (tests/test_browser.py's
launch options). Whatever happens, no script may run (`window.__pwned` stays undefined), no
dialog may open, no request may leave the loopback interface, and the payloads must be
visible on the page as plain text.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from reliability_support import ROOT, documents_in_server_index

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ANSWER_TIMEOUT_MS = 240_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SHOTS = ROOT / "test-output" / "screenshots"

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
JS_LINK = "[click](javascript:window.__pwned=1)"
BEACON = "![beacon](http://203.0.113.9/x.png)"
IFRAME = '<iframe src="http://203.0.113.9/frame"></iframe>'
ESCAPED = "&lt;img src=x onerror=window.__pwned=1&gt;"
PAYLOADS = (SCRIPT, IMG, JS_LINK, BEACON, IFRAME, ESCAPED)
FILE_NAME = "<img src=x onerror=window.__pwned=1>.txt"
ARTICLE = f"""Quillon lighthouse gets a new lamp {IMG}

Date: 2 April 2024
Source: {SCRIPT}Harbour Wire

QUILLON - The Quillon harbour lighthouse was fitted with a new lamp on Tuesday {SCRIPT} and \
its light can now be seen from 22 nautical miles away, the port authority said.

Visitors were asked to read {JS_LINK} before climbing the tower, and the authority put \
{BEACON} on its notice board.

The old lamp {IMG} had been in use since 1962 {IFRAME}, and the new one uses a tenth of the \
power {ESCAPED}.
"""
UPLOAD_NAME = "<img src=x onerror=alert(1)>.txt"
UPLOADED = f"""Pellham bakery wins the regional bread prize

PELLHAM - The Pellham town bakery won the regional bread prize on Friday for its rye loaf \
{SCRIPT}, the judges said. The bakery {IMG} was founded in 1921 {BEACON}.
"""
QUESTION = "كم ميلاً بحرياً يمكن رؤية ضوء منارة Quillon الجديد منه؟"


def wait_for_models(page) -> None:
    page.wait_for_function(
        "document.querySelectorAll('#status .dot.ok').length >= 3", timeout=180_000)


def no_active_content(page, selector: str) -> None:
    """Nothing inside `selector` came from the payloads as markup."""
    found = page.evaluate("""sel => {
        const root = document.querySelector(sel);
        if (!root) return ['missing ' + sel];
        const bad = [];
        for (const el of root.querySelectorAll('script, iframe, img, object, embed, svg'))
            bad.push(el.outerHTML.slice(0, 120));
        for (const a of root.querySelectorAll('a[href]'))
            if (!a.getAttribute('href').startsWith('#')) bad.push(a.outerHTML.slice(0, 120));
        for (const el of root.querySelectorAll('*'))
            for (const attr of el.attributes)
                if (attr.name.startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
        return bad;
    }""", selector)
    assert found == [], found


def remove_uploaded(server, embedder) -> None:
    """Take the page's upload out of the shared index and its uploads folder again."""
    from rag.config import Settings
    from rag.ingest import Ingestor
    from rag.store import IndexStore

    settings = Settings.load(index_dir=Path(server.workdir) / "index")
    names = {d.source_file for d in IndexStore(settings.index_dir).load().documents.values()
             if d.title.startswith("Pellham")}
    if names:
        Ingestor(settings, embedder).remove(sorted(names))
    for name in names:
        (Path(server.workdir) / "uploads" / name).unlink(missing_ok=True)


def test_payloads_render_as_text_and_nothing_runs_or_leaves(browser, tmp_path, embedder):
    from test_app_api import app_server

    server = app_server()
    article = tmp_path / FILE_NAME
    article.write_text(ARTICLE, encoding="utf-8")
    upload = tmp_path / "upload" / UPLOAD_NAME
    upload.parent.mkdir()
    upload.write_text(UPLOADED, encoding="utf-8")

    requests: list[str] = []
    external: list[str] = []
    dialogs: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or \
                (urlparse(url).hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            external.append(url)
            route.abort()

    with documents_in_server_index(server, [article], embedder):
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-US")
        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.set_default_timeout(30_000)
        try:
            page.goto(server.url)
            wait_for_models(page)

            # 1. Search: the passage, its title and its source, as text.
            page.click("#tab-search-button")
            page.fill("#search-query textarea, #search-query input", "Quillon lighthouse lamp")
            page.click("#search-button")
            first = page.locator("#search-results article.source").first
            first.wait_for(timeout=120_000)
            results = page.locator("#search-results").inner_text()
            assert "Quillon" in results and FILE_NAME in results, results
            for payload in (SCRIPT, IMG):
                assert payload in results, payload
            no_active_content(page, "#search-results")

            # 2. A cited answer, its source and the whole article opened.
            page.click("#tab-chat-button")
            page.fill("#question textarea", QUESTION)
            page.press("#question textarea", "Enter")
            page.wait_for_function(
                "document.querySelector('#chatlog .msg.bot') && "
                "!document.querySelector('#chatlog .msg.pending')", timeout=ANSWER_TIMEOUT_MS)
            answer = page.locator("#chatlog .msg.bot").last.inner_text()
            print(f"\nanswer: {answer!r}")
            no_active_content(page, "#chatlog")
            # The article with the payloads (an unverified answer quotes other articles too).
            sources = page.locator("#sources article.source", has_text=FILE_NAME)
            if sources.count():
                opened = sources.first
                opened.locator("details.article summary").click()
                text = opened.inner_text()
                for payload in PAYLOADS:
                    assert payload in text, (payload, text)
                no_active_content(page, "#sources")
            else:  # the small model may say "not found": the article is then opened here
                print("the answer cited no source; the article text is checked in search")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "reliability_payloads.png"), full_page=True)

            # 3. The documents list, with the HTML file name as text; then a hostile upload.
            page.click("#tab-documents-button")
            page.wait_for_selector("#docs-list table.docs")
            row = page.locator("#docs-list tr", has_text="Quillon").first
            assert FILE_NAME in row.inner_text() and IMG in row.inner_text()
            page.locator("#upload input[type=file]").set_input_files(str(upload))
            report = page.locator("#upload-report")
            report.wait_for(timeout=180_000)
            report_text = report.inner_text()
            print(f"upload report: {report_text!r}")
            assert "added" in report_text and "onerror" in report_text, report_text
            page.wait_for_selector("#docs-list tr:has-text('Pellham')", timeout=60_000)
            no_active_content(page, "#docs-list")
            no_active_content(page, "#upload-report")

            page.wait_for_timeout(1000)  # let any onerror handler fire
            assert page.evaluate("() => typeof window.__pwned") == "undefined"
        finally:
            context.close()
            remove_uploaded(server, embedder)

    assert dialogs == [], dialogs
    assert external == [], external
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts <= LOCAL_HOSTS, hosts
    print(f"{len(requests)} requests, all to {sorted(hosts)}; no dialog; window.__pwned unset")

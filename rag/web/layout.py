"""The page: its components, the events that connect them to `WebApp`'s handlers, the named
API endpoints (/ask, /search), and the CSS, script and theme it is served with.

The fonts come from assets/fonts and nothing is fetched from the internet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from .text import GRADIO_STRINGS, lang_of, t
from .webapp import WebApp, new_session

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"
EXAMPLES = (  # from the seed articles, in both languages
    "لماذا سافر وزير الدفاع الروسي إلى كوريا الشمالية؟",
    "Who is John Kirby?",
    "متى سيلتقي كيم جونغ أون بوتين؟",
    "About how many miles is Vladivostok from Pyongyang?",
)
PRIVATE = {"api_visibility": "private"}  # only /ask and /search are API endpoints
EN = "en"  # the page is built in English; the language toggle relabels it


def build(web: WebApp) -> gr.Blocks:
    return Page(web).build()


class Page:
    """The components of the page (attributes), laid out and wired to a `WebApp`."""

    def __init__(self, web: WebApp) -> None:
        self.web = web
        self.views = web.views

    def build(self) -> gr.Blocks:
        with gr.Blocks(title=t(EN, "page_title"), analytics_enabled=False) as demo:
            self.state = gr.State(new_session())
            self._header()
            with gr.Tabs():
                self._chat_tab()
                self._search_tab()
                self._documents_tab()
            self.timer = gr.Timer(1.5)
            self._events(demo)
            gr.api(self.web.api_ask, api_name="ask", concurrency_limit=1, concurrency_id="llm")
            gr.api(self.web.api_search, api_name="search", concurrency_limit=4,
                   concurrency_id="search")
        return demo

    # ---------------------------------------------------------------- layout

    def _header(self) -> None:
        views = self.views
        with gr.Row(equal_height=False):
            self.header = gr.HTML(views.header(EN), elem_id="app-header", js_on_load=None,
                                  min_width=300)
            self.lang = gr.Radio([("English", "en"), ("العربية", "ar")], value="en",
                                 label=t(EN, "language_label"), show_label=False,
                                 elem_id="lang-toggle", container=False, scale=0,
                                 min_width=190)
        self.status = gr.HTML(views.status(EN), elem_id="status", js_on_load=None)

    def _chat_tab(self) -> None:
        views = self.views
        with gr.Tab(t(EN, "tab_chat"), id="chat", elem_id="tab-chat") as self.tab_chat, \
                gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                self.chat = gr.HTML(views.chat([], EN), elem_id="chatlog", js_on_load=None)
                self.notice = gr.HTML("", elem_id="notice", js_on_load=None)
                with gr.Row(equal_height=True, elem_id="ask-row"):
                    self.question = gr.Textbox(label=t(EN, "question_label"),
                                               placeholder=t(EN, "question_placeholder"),
                                               lines=1, max_lines=6, elem_id="question",
                                               submit_btn=False, scale=5, min_width=260)
                    with gr.Column(scale=1, min_width=130):
                        self.send = gr.Button(t(EN, "send"), variant="primary",
                                              elem_id="send")
                        # Shown while an answer is being written (the busy state).
                        self.stop = gr.Button(t(EN, "stop"), variant="stop", elem_id="stop",
                                              visible=False, size="sm")
                        self.new = gr.Button(t(EN, "new_chat"), elem_id="new-chat", size="sm")
                with gr.Row(elem_id="examples"):
                    self.examples_title = gr.HTML(views.muted(EN, "examples"), js_on_load=None,
                                                  min_width=110, scale=0)
                    self.example_buttons = [
                        gr.Button(q, size="sm", elem_classes=["example"], min_width=200)
                        for q in EXAMPLES]
            with gr.Column(scale=2, min_width=320):
                self.sources = gr.HTML(views.sources([], EN), elem_id="sources",
                                       js_on_load=None)

    def _search_tab(self) -> None:
        with gr.Tab(t(EN, "tab_search"), id="search", elem_id="tab-search") as self.tab_search:
            self.search_intro = gr.HTML(self.views.muted(EN, "search_intro"), js_on_load=None)
            with gr.Row():
                self.query = gr.Textbox(label=t(EN, "search_label"),
                                        placeholder=t(EN, "search_placeholder"),
                                        elem_id="search-query", scale=4)
                self.k = gr.Slider(1, 20, value=self.web.settings.top_k, step=1,
                                   label=t(EN, "search_k"), elem_id="search-k", scale=1)
            self.search_btn = gr.Button(t(EN, "search_button"), variant="primary",
                                        elem_id="search-button")
            self.results = gr.HTML("", elem_id="search-results", js_on_load=None)

    def _documents_tab(self) -> None:
        with gr.Tab(t(EN, "tab_documents"), id="documents",
                    elem_id="tab-documents") as self.tab_docs:
            self.upload_help = gr.HTML(self.views.upload_help(EN), js_on_load=None)
            # Any file type reaches the app, which refuses the wrong ones in the user's
            # language (Gradio's own refusal is an English-only toast).
            self.files = gr.File(label=t(EN, "upload_label"), file_count="multiple",
                                 type="filepath", elem_id="upload", height=140)
            self.report = gr.HTML("", elem_id="docs-report", js_on_load=None)
            with gr.Row():
                self.to_remove = gr.Dropdown([], value=[], multiselect=True,
                                             label=t(EN, "remove_label"),
                                             elem_id="remove-files", scale=4)
                self.remove_btn = gr.Button(t(EN, "remove_button"), variant="stop",
                                            elem_id="remove-button", scale=1)
                self.refresh_btn = gr.Button(t(EN, "refresh"), elem_id="refresh-docs",
                                             scale=0, min_width=100)
            with gr.Column(visible=False, elem_id="remove-confirm") as self.confirm_row, \
                    gr.Row():
                self.remove_yes = gr.Button(t(EN, "remove_yes"), variant="stop",
                                            elem_id="remove-yes", size="sm")
                self.remove_no = gr.Button(t(EN, "remove_cancel"), elem_id="remove-no",
                                           size="sm")
            self.docs = gr.HTML("", elem_id="docs-list", js_on_load=None)

    # ---------------------------------------------------------------- events

    def _events(self, demo: gr.Blocks) -> None:
        web, state, lang = self.web, self.state, self.lang
        chat_outputs = [self.chat, self.sources, self.notice, self.question, state, self.status,
                        self.stop]
        # Enter, Ask and the examples: the question is accepted at once (never queued, never
        # dropped: trigger_mode="multiple"), then its answer streams.
        accept = {"fn": web.accept, "inputs": [self.question, state, lang],
                  "outputs": chat_outputs, "queue": False, "trigger_mode": "multiple",
                  "show_progress": "hidden", "show_progress_on": [self.chat], **PRIVATE}
        # "multiple" here too: with Gradio's default ("once") an answer event still queued
        # (a refused question's) silently dropped the next accepted question's answer.
        answer = {"fn": web.answer, "inputs": [state, lang], "outputs": chat_outputs,
                  "concurrency_limit": 1, "concurrency_id": "llm", "show_progress": "hidden",
                  "show_progress_on": [self.chat], "trigger_mode": "multiple", **PRIVATE}
        self.question.submit(**accept).then(**answer)
        self.send.click(**accept).then(**answer)
        for button in self.example_buttons:
            button.click(lambda q: q, button, self.question, queue=False, **PRIVATE) \
                .then(**accept).then(**answer)
        self.stop.click(web.stop, [state], None, queue=False, **PRIVATE)
        self.new.click(web.new_chat, [lang, state], chat_outputs, queue=False, **PRIVATE)

        search_args = {"fn": web.ui_search, "inputs": [self.query, self.k, lang, state],
                       "outputs": [self.results, state], "concurrency_limit": 4,
                       "concurrency_id": "search", **PRIVATE}
        self.query.submit(**search_args)
        self.search_btn.click(**search_args)

        documents = [self.docs, self.to_remove]
        # Progress once, in the upload box itself (not a spinner over every panel).
        self.files.upload(web.upload, [self.files, lang, state],
                          [self.report, *documents, self.files, self.status],
                          concurrency_limit=1, concurrency_id="write",
                          show_progress_on=[self.files], **PRIVATE)
        # Remove asks first (the confirmation row), then says what it removed.
        self.remove_btn.click(web.confirm_remove, [self.to_remove, lang],
                              [self.report, self.confirm_row], queue=False, **PRIVATE)
        self.remove_no.click(web.cancel_remove, [lang], [self.report, self.confirm_row],
                             queue=False, **PRIVATE)
        self.remove_yes.click(web.remove, [self.to_remove, lang, state],
                              [self.report, *documents, self.status, self.confirm_row],
                              concurrency_limit=1, concurrency_id="write",
                              show_progress_on=[self.report], **PRIVATE)
        self.refresh_btn.click(web.refresh_documents, [lang], documents, **PRIVATE)
        self.tab_docs.select(web.refresh_documents, [lang], documents, **PRIVATE)

        self.timer.tick(self._tick, [lang, state], [self.status, self.timer], queue=False,
                        **PRIVATE)
        demo.load(self._tick, [lang, state], [self.status, self.timer], queue=False, **PRIVATE)

        relabeled = [self.header, self.status, self.tab_chat, self.tab_search, self.tab_docs,
                     self.chat, self.sources, self.question, self.send, self.stop, self.new,
                     self.examples_title, self.search_intro, self.query, self.k,
                     self.search_btn, self.upload_help, self.files, self.to_remove,
                     self.remove_btn, self.refresh_btn, self.docs, self.results,
                     self.remove_yes, self.remove_no]
        lang.change(self._relabel, [lang, state], relabeled, queue=False,
                    js="(lang, session) => [window.ragSetLanguage(lang), session]", **PRIVATE)
        # The interface follows the browser's language until the user picks one.
        demo.load(None, None, lang, js="() => ((navigator.languages || [navigator.language])"
                  ".some(l => (l || '').toLowerCase().startsWith('ar')) ? 'ar' : 'en')",
                  **PRIVATE)
        demo.load(web.refresh_documents, [lang], documents, **PRIVATE)

    def _tick(self, lang_value: str, session: dict[str, Any]):
        """The status line, refreshed until the models are warmed up."""
        return (self.views.status(lang_of(lang_value), session.get("timings")),
                gr.Timer(active=self.web.service.warming_up()))

    def _relabel(self, lang_value: str, session: dict[str, Any]):
        """Every label of the page in the chosen language (the order of `relabeled`)."""
        lg, views = lang_of(lang_value), self.views
        table, _ = self.web.refresh_documents(lg)
        return (views.header(lg), views.status(lg, session.get("timings")),
                gr.Tab(label=t(lg, "tab_chat")), gr.Tab(label=t(lg, "tab_search")),
                gr.Tab(label=t(lg, "tab_documents")),
                views.chat(session["turns"], lg), views.sources(session["turns"], lg),
                gr.Textbox(label=t(lg, "question_label"),
                           placeholder=t(lg, "question_placeholder")),
                gr.Button(t(lg, "send")), gr.Button(t(lg, "stop")), gr.Button(t(lg, "new_chat")),
                views.muted(lg, "examples"), views.muted(lg, "search_intro"),
                gr.Textbox(label=t(lg, "search_label"), placeholder=t(lg, "search_placeholder")),
                gr.Slider(label=t(lg, "search_k")),
                gr.Button(t(lg, "search_button")), views.upload_help(lg),
                gr.File(label=t(lg, "upload_label")),
                gr.Dropdown(label=t(lg, "remove_label"), multiselect=True),
                gr.Button(t(lg, "remove_button")), gr.Button(t(lg, "refresh")), table,
                self.web.search_results(session, lg), gr.Button(t(lg, "remove_yes")),
                gr.Button(t(lg, "remove_cancel")))


# ====================================================================== serving


def page_css() -> str:
    """The app's CSS, with the bundled Arabic font served by this app itself."""
    fonts = ASSETS / "fonts"
    faces = []
    for weight, style in ((400, "Regular"), (700, "Bold")):
        url = f"gradio_api/file={(fonts / f'NotoSansArabicUI-{style}.woff2').as_posix()}"
        faces.append(
            "@font-face { font-family: 'Noto Sans Arabic UI'; font-style: normal; "
            f"font-weight: {weight}; font-display: swap; src: url('{url}') format('woff2'); "
            "unicode-range: U+0600-06FF, U+0750-077F, U+08A0-08FF, U+FB50-FDFF, U+FE70-FEFF; }")
    return "\n".join(faces) + "\n" + (ASSETS / "app.css").read_text(encoding="utf-8")


def page_head() -> str:
    """The page's script, after the Arabic for Gradio's own strings (text.py) it swaps in."""
    strings = json.dumps(GRADIO_STRINGS, ensure_ascii=False).replace("</", "<\\/")
    return (f"<script>window.RAG_GRADIO_AR = {strings};\n"
            f"{(ASSETS / 'app.js').read_text(encoding='utf-8')}\n</script>")


def theme() -> gr.themes.Base:
    """Gradio's default theme with fonts that are all local: the bundled Arabic font first
    (it only covers Arabic), then Gradio's own bundled Latin font, then system fonts.

    Only the regular and bold files of Gradio's fonts: its "SemiBold" files hold two glyphs
    (A and B), so semi-bold text fell back to another font letter by letter."""
    sans = ["Noto Sans Arabic UI", gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)),
            "Noto Sans Arabic", "DejaVu Sans", "Segoe UI", "Tahoma", "system-ui", "sans-serif"]
    mono = [gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700)), "DejaVu Sans Mono",
            "ui-monospace", "monospace"]
    return gr.themes.Default(font=sans, font_mono=mono)

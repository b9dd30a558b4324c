"""The web app (Gradio), served by `python app.py`: a thin layer over the library.

    text.py      every label and message, in English and Arabic
    render.py    small HTML helpers (escaping, answer text with linked [n] markers, highlights)
    views.py     `Views`: the HTML of each part of the page
    service.py   `Service`: what the sessions share (the Assistant, its warm-up, the uploads)
    webapp.py    `WebApp`: the event handlers and the /ask and /search API functions
    layout.py    the page's components and events, its CSS, script and theme
    server.py    who may reach the page, and launching it

Everything the page shows is escaped HTML (never markdown, never raw text from the articles).
Uploads go through `rag.uploads`, which the CLI can use too.
"""

import os

# Before gradio is imported (by the modules of this package): no usage statistics.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

"""Serving the page: who may reach it (address, passwords) and how Gradio is launched."""

from __future__ import annotations

import ipaddress
import os

import gradio as gr

from ..config import Settings
from .layout import ASSETS, build, page_css, page_head, theme
from .received import own_folder
from .service import Service
from .webapp import WebApp

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """'user:password' or several separated by commas."""
    if not value:
        return None
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise ValueError("--auth must be user:password (several separated by commas)")
        pairs.append((user, password))
    return pairs


def hard_upload_limit_mb(settings: Settings) -> int:
    """Gradio's own limit, which stops a file before it is uploaded, with an English-only
    message. It is set above `max_upload_mb` so that ordinary oversized files reach the app
    and get its clearer message in the user's language; only huge ones are stopped early."""
    return max(5 * settings.max_upload_mb, settings.max_upload_mb + 20)


def serve(settings: Settings, host: str, port: int,
          auth: list[tuple[str, str]] | None) -> None:
    """Start loading the models, and serve the page until stopped (the page comes up at once)."""
    # Before Gradio reads it: uploads land in a folder of ours, emptied after each upload.
    # It is an allowed path so that Gradio takes a file named ".notes.txt" from it (its
    # dotfile rule refused the whole batch when the folder was under the working directory).
    received = own_folder()
    os.environ["GRADIO_TEMP_DIR"] = str(received)
    service = Service(settings)
    service.start()
    demo = build(WebApp(service))
    demo.queue(default_concurrency_limit=4, max_size=64)
    gr.set_static_paths([ASSETS / "fonts"])
    demo.launch(server_name=host, server_port=port, auth=auth, share=False,
                theme=theme(), css=page_css(), head=page_head(), footer_links=["api"],
                ssr_mode=False, max_file_size=f"{hard_upload_limit_mb(settings)}mb",
                allowed_paths=[str(received)],
                enable_monitoring=False, run_history=False, pwa=False, mcp_server=False,
                show_error=False, favicon_path=None, quiet=False)

"""The web app: chat with cited answers, passage search, and document management.

    python app.py                      # http://127.0.0.1:7860
    python app.py --port 8000
    python app.py --host 0.0.0.0 --allow-remote --auth alice:secret

The page itself is `rag.web` (layout, views, handlers, UI text); uploaded files are kept by
`rag.uploads` in `<index folder>/../uploads/`, so that the index can be rebuilt from the
originals with `rag ingest --rebuild seeds/ uploads/`. This file parses the command line.
"""

from __future__ import annotations

import os

# Before anything imports the model hub's client: models come from local folders only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import logging
import sys

from rag.config import Settings
from rag.errors import RagError
from rag.web.server import is_loopback, parse_auth, serve

log = logging.getLogger("rag.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the news assistant's web app.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="Address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME). "
                             "Anything but loopback needs --allow-remote.")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                        help="Port (default 7860, or GRADIO_SERVER_PORT).")
    parser.add_argument("--allow-remote", action="store_true",
                        help="Allow listening on a non-loopback address (other machines can "
                             "then reach the app; use --auth).")
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"),
                        help="user:password required to open the app (or RAG_AUTH); several "
                             "separated by commas.")
    parser.add_argument("--config", default=None, help="Settings file (TOML).")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log more.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"Refusing to listen on {args.host}: other machines could reach the app. "
              f"Add --allow-remote (and --auth user:password) to do it on purpose.",
              file=sys.stderr)
        return 2
    try:
        auth = parse_auth(args.auth)
        settings = Settings.load(args.config)
    except (ValueError, RagError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not auth:
        print(f"Refusing to listen on {args.host} without --auth: anyone who can reach this "
              f"machine could read every indexed article and add or remove documents. Add "
              f"--auth user:password (or set RAG_AUTH).", file=sys.stderr)
        return 2
    serve(settings, args.host, args.port, auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())

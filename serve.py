"""`make run`: the Streamlit app and, in the same process, the HTTP API and website widget, so the
two share one model engine, one knowledge base and one database (an embedded Chroma store takes one
process). The UI layer, beside app.py: core itself never imports Streamlit.

    .venv/bin/python serve.py [--host 127.0.0.1] [--app-port 8501] [--port 8502]

APP_API=off serves the app alone; `python -m core serve` serves the API alone.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from streamlit.web.cli import main as streamlit_main

from core.cli.api import api_server
from core.config import load_settings


def start_warm_up(server=None) -> None:
    """Load the knowledge base's models and the chat model in the background while the server
    starts, then read the knowledge base ahead for the relevance check (APP_SUPPORT_WARM): the
    warm-up `python -m core serve` runs too (core/support/warm.py). The app's pages and the API's
    `server` share one application (core/application.py), so what is loaded here is what their
    first question uses."""
    state = getattr(getattr(getattr(server, "config", None), "app", None), "state", None)
    services = getattr(state, "services", None)

    def run() -> None:
        try:
            from core.application import Application  # chromadb: imported here, after start

            (services.app if services is not None else Application.shared(load_settings())).start_warm_up()
        except Exception as exc:  # only a head start: a question still loads what it needs
            print(f"warm-up did not start: {type(exc).__name__}: {exc}", file=sys.stderr)

    threading.Thread(target=run, name="warm-up start", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--app-port", type=int, default=8501, help="the Streamlit app's port")
    parser.add_argument("--port", type=int, default=8502, help="the HTTP API's port")
    args = parser.parse_args()
    settings = load_settings()
    server = api_server(settings, args.host, args.port) if settings.api != "off" else None
    start_warm_up(server)
    if server is not None:
        threading.Thread(target=server.run, name="api", daemon=True).start()
    sys.argv = [
        "streamlit",
        "run",
        str(Path(__file__).resolve().parent / "app.py"),
        "--server.address",
        args.host,
        "--server.port",
        str(args.app_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    streamlit_main()


if __name__ == "__main__":
    main()

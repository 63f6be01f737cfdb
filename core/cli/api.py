"""`python -m core serve` (the HTTP API, with the app) and `python -m core keys ...` (API keys).

    python -m core serve [--host 127.0.0.1] [--port 8502] [--app-port 8501 | --no-app]
    python -m core keys add NAME [--origins URL,URL] [--rpm N] [--scope support|all] --json
    python -m core keys list | revoke NAME

`serve` runs the API and, unless --no-app, the Streamlit app in the same process, so the two share
one model engine, one knowledge base and one database (an embedded Chroma store takes one process).
Key changes are recorded in the audit log as `cli:<OS user>`.
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime

from core.api.keys import KeyStore
from core.cli.common import add_command, audit, print_result
from core.config import PROJECT_ROOT


def cmd_serve(args, settings):
    import uvicorn  # the web server: only this command needs it

    from core.api.app import create_app

    run_api = settings.api != "off"
    if not run_api and args.no_app:
        raise ValueError("APP_API=off and --no-app: there is nothing to serve")
    if run_api:
        config = uvicorn.Config(
            create_app(settings), host=args.host, port=args.port, log_level="warning", timeout_keep_alive=30
        )
        server = uvicorn.Server(config)
        print(
            f"API: http://{args.host}:{args.port}/docs · widget demo http://{args.host}:{args.port}/widget/demo",
            file=sys.stderr,
        )
        if args.no_app:
            server.run()
            return
        threading.Thread(target=server.run, name="api", daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = [
        "streamlit",
        "run",
        str(PROJECT_ROOT / "app.py"),
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


def _keys(settings):
    return KeyStore(settings.db_path)


def cmd_keys_add(args, settings):
    origins = [o for o in (args.origins or "").split(",") if o.strip()]
    key, secret = _keys(settings).add(args.name, origins, args.rpm, args.scope)
    audit(settings, "api_key.add", key.name, {"origins": key.origins, "rpm": key.rpm, "scope": key.scope})
    print_result(
        args,
        {"key": secret, "name": key.name, "origins": key.origins, "rpm": key.rpm, "scope": key.scope},
        f"API key {key.name} (shown once, keep it safe):\n{secret}",
    )


def cmd_keys_list(args, settings):
    keys = _keys(settings).list()
    if args.json:
        print_result(args, {"keys": [k.as_dict() for k in keys]})
        return
    for k in keys:
        when = datetime.fromtimestamp(k.created_at).strftime("%Y-%m-%d %H:%M")
        state = "active" if k.active else "revoked"
        print(
            f"{k.name:24} {k.prefix}…  {state:7}  {k.scope:7}  {k.rpm:5}/min  {k.uses:6} uses  {when}  "
            f"{', '.join(k.origins) or '(servers only)'}"
        )


def cmd_keys_revoke(args, settings):
    key = _keys(settings).revoke(args.name)
    audit(settings, "api_key.revoke", key.name)
    print_result(args, {"revoked": key.name}, f"Revoked {key.name}")


def register(sub) -> None:
    add = add_command
    p = add(sub, "serve", cmd_serve, "serve the HTTP API and the website widget (and the app)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8502, help="the API's port")
    p.add_argument("--app-port", type=int, default=8501, help="the Streamlit app's port")
    p.add_argument("--no-app", action="store_true", help="the API alone")
    keys = sub.add_parser("keys", help="API keys for the HTTP API and the widget").add_subparsers(
        dest="action", required=True
    )
    p = add(keys, "add", cmd_keys_add, "create a key (printed once)")
    p.add_argument("name")
    p.add_argument("--origins", default="", help="website origins allowed to use it, comma-separated")
    p.add_argument("--rpm", type=int, default=60, help="requests per minute")
    p.add_argument(
        "--scope",
        choices=["support", "all"],
        default="support",
        help="support: customer service only (a website widget); all: also chat",
    )
    add(keys, "list", cmd_keys_list, "list keys (never the keys themselves)")
    p = add(keys, "revoke", cmd_keys_revoke, "revoke a key")
    p.add_argument("name")

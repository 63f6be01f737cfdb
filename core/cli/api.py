"""`python -m core serve` (the HTTP API) and `python -m core keys ...` (API keys).

    python -m core serve [--host 127.0.0.1] [--port 8502]
    python -m core keys add NAME [--origins URL,URL] [--rpm N] [--scope support|all] --json
    python -m core keys list | revoke NAME

`serve` runs the API alone; `make run` starts it beside the Streamlit app in one process with the
top-level `serve.py` (the UI layer), so the two share one model engine, knowledge base and database.
Key changes are recorded in the audit log as `cli:<OS user>`.
"""

from __future__ import annotations

import sys
from datetime import datetime

from core.api.keys import KeyStore
from core.cli.common import add_command, audit, print_result


def api_server(settings, host: str, port: int):
    """The HTTP API as a uvicorn server, not started yet (`serve.py` runs it beside the app)."""
    import uvicorn  # the web server: only serving needs it

    from core.api.app import create_app  # loads the engine and knowledge-base code: only serving needs it

    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (anyone on this
    # machine); the app believes it only from APP_API_TRUSTED_PROXIES (core/api/keys.py client_address).
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=30,
        proxy_headers=False,
    )
    docs = f"http://{host}:{port}/docs" if settings.api_docs == "on" else "docs off (APP_API_DOCS=off)"
    print(f"API: {docs} · widget demo http://{host}:{port}/widget/demo", file=sys.stderr)
    return uvicorn.Server(config)


def cmd_serve(args, settings):
    if settings.api == "off":
        raise ValueError("APP_API=off: the HTTP API is switched off, there is nothing to serve")
    server = api_server(settings, args.host, args.port)
    # The models load in the background while the server answers /api/v1/health: the first question
    # then waits no longer than the next one (the warm-up serve.py runs too).
    server.config.app.state.services.app.start_warm_up()
    server.run()


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
    p = add(sub, "serve", cmd_serve, "serve the HTTP API and the website widget (make run adds the app)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8502, help="the API's port")
    p.add_argument("--no-app", action="store_true", help="accepted for older scripts: serve is the API alone")
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

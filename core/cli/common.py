"""What every command of `python -m core` shares: registering a command, printing its result (one
JSON object with --json), progress messages, the knowledge base it works on, and the audit log."""

from __future__ import annotations

import json
import sys

from core.storage.audit import cli_user, record


def add_command(subparsers, name: str, func, help_text: str):
    """A sub-command with --json, dispatched to func(args, settings)."""
    parser = subparsers.add_parser(name, help=help_text)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=func)
    return parser


def print_result(args, payload: dict, text: str | None = None) -> None:
    """With --json: `payload` as one JSON line; otherwise `text` (or the payload, indented)."""
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(text if text is not None else json.dumps(payload, ensure_ascii=False, indent=2))


def progress_log(args):
    """Progress messages: to stderr, and none at all with --json (stdout holds only the result)."""
    return (lambda msg: print(msg, file=sys.stderr)) if not args.json else (lambda msg: None)


def knowledge_base(args, settings):
    """The knowledge base a command works on: --kb, else APP_KB_NAME."""
    from core.application import open_knowledge_base  # chromadb: only commands that use the knowledge base load it

    return open_knowledge_base(settings, getattr(args, "kb", None))


def engine(args, settings):
    """The configured model for a command, not warmed up (timings stay the model's own); its loading's
    progress on stderr unless --json."""
    from core.application import Application  # the engine and chromadb: only commands that use them load them

    return Application.shared(settings).engine(warm=False, log=progress_log(args))


def audit(settings, action: str, target: str, detail: dict | None = None) -> None:
    """An admin action from the command line, recorded as `cli:<OS user>`."""
    record(settings.db_path, cli_user(), action, target, detail)


def company(settings):
    """Who the app speaks for, as the Knowledge base page or `company set` saved it."""
    from core.application import Application  # chromadb: only commands that answer customers load it

    return Application.shared(settings).company

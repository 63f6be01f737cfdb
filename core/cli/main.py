"""Command line: `python -m core ...`. Every page's capability is scriptable from here.

With `--json` each command prints exactly one JSON object on stdout (errors too: {"error": ...},
exit status 2), so benchmarks and checks can parse it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from transformers.utils import logging as hf_logging

from core.cli import api, backup, company, cost, finetune, kb, model, support, users, writer
from core.config import load_settings

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class UsageError(Exception):
    """A command line argparse refused (bad value, missing option): main() reports it, as
    {"error": ...} when --json is among the arguments, with exit status 2 either way."""


class _Parser(argparse.ArgumentParser):
    """Raises UsageError instead of printing usage and exiting; sub-commands' parsers are this
    class too (add_subparsers defaults parser_class to the parent's class)."""

    def error(self, message):
        raise UsageError(self, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="AI Business Studio command line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for family in (model, kb, support, company, writer, cost, finetune, users, backup, api):
        family.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        parser, message = exc.args
        if "--json" in argv:
            print(json.dumps({"error": message}, ensure_ascii=False))
        else:
            parser.print_usage(sys.stderr)
            print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        settings = load_settings()
        args.func(args, settings)
    except (ValueError, RuntimeError) as exc:  # ModelUnavailable and EngineError are RuntimeErrors
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

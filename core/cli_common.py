"""What every command of `python -m core` shares: printing its result (one JSON object with --json)
and where progress messages go."""

from __future__ import annotations

import json
import sys


def print_result(args, payload: dict, text: str | None = None) -> None:
    """With --json: `payload` as one JSON line; otherwise `text` (or the payload, indented)."""
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(text if text is not None else json.dumps(payload, ensure_ascii=False, indent=2))


def progress_log(args):
    """Progress messages: to stderr, and none at all with --json (stdout holds only the result)."""
    return (lambda msg: print(msg, file=sys.stderr)) if not args.json else (lambda msg: None)

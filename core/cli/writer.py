"""`python -m core write` and `write batch`: the content writer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.cli.common import add_command, engine, knowledge_base, print_result
from core.writer.batch import read_rows, run_batch
from core.writer.drafts import write
from core.writer.facts import facts_from_kb
from core.writer.request import WriteRequest, split_list
from core.writer.templates import load_templates


def write_request(args, settings, fields: dict) -> WriteRequest:
    templates = load_templates()
    if args.template not in templates:
        raise ValueError(f"Unknown template {args.template!r}; choose one of: {', '.join(templates)}")
    req = WriteRequest(
        templates[args.template],
        fields,
        lang=args.lang,
        tone=args.tone,
        audience=args.audience,
        length=args.length,
        keywords=split_list(args.keywords),
        banned=split_list(args.banned),
        platform=args.platform,
    )
    if args.ground:
        req.facts = facts_from_kb(knowledge_base(args, settings), fields)
    return req


def cmd_write(args, settings):
    if not args.template:
        raise ValueError("--template is required")
    try:
        fields = json.loads(args.fields or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"--fields is not valid JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise ValueError("--fields must be a JSON object")
    req = write_request(args, settings, fields).validate()
    variants = write(engine(args, settings), req, variants=args.variants, seed=args.seed)
    payload = {
        "template": req.template.id,
        "lang": req.lang,
        "facts": req.facts,
        "variants": [
            {
                "text": v.text,
                "checks": {
                    k: v.checks[k]
                    for k in (
                        "length_ok",
                        "missing_keywords",
                        "banned_found",
                        "language",
                        "chars",
                        "max_chars",
                        "structure_missing",
                        "too_short",
                        "unsupported_numbers",
                    )
                },
                "seconds": v.seconds,
            }
            for v in variants
        ],
    }
    print_result(args, payload, "\n\n---\n\n".join(v.text for v in variants))


def cmd_write_batch(args, settings):
    path = Path(args.csv)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    rows = read_rows(path.name, path.read_bytes(), settings.max_upload_mb * 1_000_000)
    base = write_request(args, settings, dict(rows[0]))
    facts_for = None
    if args.ground:
        kb = knowledge_base(args, settings)
        facts_for = lambda fields: facts_from_kb(kb, fields)  # noqa: E731
    result = run_batch(
        engine(args, settings),
        base.template,
        rows,
        Path(args.out),
        base=base,
        progress=None if args.json else (lambda f: print(f"\r{f:.0%}", end="", file=sys.stderr)),
        facts_for=facts_for,
    )
    print_result(args, result, f"\n{result['written']} written, {result['skipped']} already done → {result['out']}")


def write_options(p, batch: bool = False) -> None:
    p.add_argument("--template", required=batch)
    p.add_argument("--lang", choices=["en", "zh"], default="en")
    p.add_argument("--tone", default="friendly")
    p.add_argument("--audience", default="")
    p.add_argument("--length", choices=["short", "medium", "long"], default="medium")
    p.add_argument("--keywords", default="", help="comma-separated words that must appear")
    p.add_argument("--banned", default="", help="comma-separated words that must not appear")
    p.add_argument("--platform", default=None, help="for social posts: linkedin, x, wechat, xiaohongshu")
    p.add_argument("--ground", action="store_true", help="use facts from the knowledge base")
    p.add_argument("--kb", default=None)


def register(sub) -> None:
    write_p = add_command(sub, "write", cmd_write, "write copy from a template (or: write batch)")
    write_options(write_p)
    write_p.add_argument("--fields", default="{}", help='JSON object, e.g. \'{"product": "..."}\'')
    write_p.add_argument("--variants", type=int, default=1)
    write_p.add_argument("--seed", type=int, default=0)
    write_sub = write_p.add_subparsers(dest="write_action")
    batch_p = add_command(write_sub, "batch", cmd_write_batch, "one text per CSV/XLSX row, resumable")
    write_options(batch_p, batch=True)
    batch_p.add_argument("--csv", required=True)
    batch_p.add_argument("--out", required=True)

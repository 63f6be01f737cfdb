"""`python -m core kb ingest|init|list|delete|search|eval`: the knowledge base."""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.common import add_command, audit, knowledge_base, print_result
from core.kb.ingest import IngestError


def cmd_kb_ingest(args, settings):
    kb = knowledge_base(args, settings)
    reports, errors = [], []
    for path in args.paths:
        try:
            r = kb.ingest_path(Path(path), max_bytes=settings.max_upload_mb * 1_000_000)
            reports.append(
                {"source": r.source, "kind": r.kind, "entries": r.entries, "added": r.added, "removed": r.removed}
            )
            audit(
                settings,
                "kb.ingest",
                r.source,
                {"kb": kb.name, "entries": r.entries, "added": r.added, "removed": r.removed},
            )
            if not args.json:
                print(f"{r.source}: {r.entries} {r.kind} entries ({r.added} records added, {r.removed} removed)")
        except IngestError as exc:
            errors.append(str(exc))
            print(f"error: {exc}", file=sys.stderr)
    if args.json:
        print_result(args, {"kb": kb.name, "ingested": reports, "errors": errors})
    if errors:
        raise SystemExit(2)


def cmd_kb_init(args, settings):
    from core.kb.store import load_sample  # chromadb: only knowledge-base commands load it

    kb = knowledge_base(args, settings)
    reports = load_sample(kb) if settings.sample_kb == "on" else []
    print_result(
        args,
        {"kb": kb.name, "loaded": [r.source for r in reports], "records": kb.count()},
        f"Sample knowledge base: {len(reports)} file(s) loaded, {kb.count()} records in '{kb.name}'",
    )


def cmd_kb_list(args, settings):
    kb = knowledge_base(args, settings)
    rows = kb.sources()
    if args.json:
        print_result(args, {"kb": kb.name, "sources": rows})
    else:
        for r in rows:
            print(f"{r['source']:40} {r['kind']:4} {r['entries']:5} entries  [{r['languages']}]")


def cmd_kb_delete(args, settings):
    kb = knowledge_base(args, settings)
    removed = kb.delete_source(args.source)
    if not removed:
        raise ValueError(f"No document named {args.source!r} in the knowledge base")
    audit(settings, "kb.delete", args.source, {"kb": kb.name, "records": removed})
    print_result(args, {"deleted": args.source, "records": removed}, f"Deleted {args.source} ({removed} records)")


def cmd_kb_search(args, settings):
    hits = knowledge_base(args, settings).search(args.query, k=args.k, mode=args.mode)
    payload = {
        "results": [
            {
                "id": h.id,
                "text": h.text,
                "score": h.score,
                "confidence": h.confidence,
                "source": h.source,
                "kind": h.kind,
                "faq_id": h.faq_id,
            }
            for h in hits
        ]
    }
    if args.json:
        print_result(args, payload)
    else:
        for i, h in enumerate(hits, 1):
            print(f"{i}. [{h.score:.3f} | conf {h.confidence:.2f}] {h.source} {h.faq_id} :: {h.text[:100]!r}")


def cmd_kb_eval(args, settings):
    from core.kb.evaluate import evaluate  # chromadb: only knowledge-base commands load it

    modes = [args.mode] if args.mode != "all" else ["bm25", "vector", "hybrid"]
    results = evaluate(args.faq, args.queries, k=args.k, modes=modes)
    print_result(args, results[args.mode] if args.mode != "all" else results)


def register(sub) -> None:
    kb = sub.add_parser("kb", help="the knowledge base").add_subparsers(dest="action", required=True)
    p = add_command(kb, "ingest", cmd_kb_ingest, "add or update files (FAQ tables, documents)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--kb", default=None)
    p = add_command(kb, "init", cmd_kb_init, "load the sample company's knowledge base if it is empty")
    p.add_argument("--kb", default=None)
    p = add_command(kb, "list", cmd_kb_list, "list ingested files")
    p.add_argument("--kb", default=None)
    p = add_command(kb, "delete", cmd_kb_delete, "delete an ingested file's entries")
    p.add_argument("source")
    p.add_argument("--kb", default=None)
    p = add_command(kb, "search", cmd_kb_search, "hybrid search: ranked passages with scores")
    p.add_argument("query")
    p.add_argument("--kb", default=None)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "vector", "bm25"], default="hybrid")
    p = add_command(kb, "eval", cmd_kb_eval, "retrieval quality of a FAQ against labelled queries (temporary store)")
    p.add_argument("--faq", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "vector", "bm25", "all"], default="hybrid")

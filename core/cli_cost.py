"""`python -m core cost ...`: training, serving and GPU catalogue estimates."""

from __future__ import annotations

import re

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


def parse_quantity(text: str) -> float:
    """'7e9', '7B', '70b', '2T', '1.5M', '500k', '1,000' -> a float (B = billion, T = trillion)."""
    raw = str(text).strip().replace(",", "").replace("_", "")
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)", raw, flags=re.IGNORECASE)
    if not m:
        raise ValueError(f"Not a number: {text!r} (examples: 7e9, 7B, 70b, 2T, 1.5M)")
    value = float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if value <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    return value


def cmd_cost_train(args, settings):
    from core.cli import _print
    from core.economics import DEFAULT_MFU, estimate_training

    # --params/--tokens are parsed here, not by argparse, so a bad value becomes {"error": ...} with --json.
    est = estimate_training(parse_quantity(args.params), parse_quantity(args.tokens), args.gpu, gpus=args.gpus,
                            mfu=DEFAULT_MFU if args.mfu is None else args.mfu, usd_per_gpu_hour=args.usd_per_gpu_hour, precision=args.precision)
    payload = {
        "flops": est.flops, "gpu_hours": est.gpu_hours, "wall_days": est.wall_days, "cost_usd": est.cost_usd,
        "mfu": est.mfu, "gpu": est.gpu, "gpus": est.gpus, "usd_per_gpu_hour": est.usd_per_gpu_hour,
        "energy_kwh": est.energy_kwh, "compute_optimal_tokens": est.compute_optimal_tokens, "notes": est.notes,
    }
    cost = f"${est.cost_usd:,.0f}" if est.cost_usd is not None else "unknown (no price: pass --usd-per-gpu-hour)"
    text = (f"{est.flops:.3g} FLOPs = {est.gpu_hours:,.0f} {est.gpu} GPU-hours at {est.mfu:.0%} MFU"
            f" = {est.wall_days:,.1f} days on {est.gpus} GPU(s); cost {cost}")
    _print(args, payload, text)


def cmd_cost_serve(args, settings):
    from core.cli import _print
    from core.economics import estimate_serving

    total = parse_quantity(args.total_params) if args.total_params else None
    est = estimate_serving(parse_quantity(args.params), args.gpu, precision=args.precision, batch=args.batch,
                           context=args.context, layers=args.layers, kv_heads=args.kv_heads, head_dim=args.head_dim,
                           usd_per_gpu_hour=args.usd_per_gpu_hour, total_params=total)
    keys = ("weights_gb", "kv_cache_gb", "total_gb", "fits", "gpus_needed", "prefill_tok_s", "decode_tok_s",
            "decode_tok_s_per_sequence", "bound", "usd_per_gpu_hour", "usd_per_million_output_tokens",
            "usd_per_million_input_tokens", "gpu", "precision", "batch", "context", "layers", "kv_heads", "head_dim",
            "shape_estimated", "shape_source", "explanation")
    _print(args, {k: getattr(est, k) for k in keys}, "\n".join(est.explanation))


def cmd_cost_gpus(args, settings):
    from core.cli import _print
    from core.economics import load_gpus

    gpus = [g.to_dict() for g in load_gpus().values()]
    lines = [f"{g['name']:10} {g['bf16_tflops']:8g} TFLOPS bf16 {g['memory_gb']:6g} GB {g['bandwidth_gbs']:7g} GB/s  "
             + (f"${g['usd_per_hour']:.2f}/h" if g["usd_per_hour"] is not None else "no price")
             for g in gpus]
    _print(args, {"gpus": gpus, "names": [g["name"] for g in gpus]}, "\n".join(lines))


def register(sub, add) -> None:
    """Add this module's sub-commands to the top-level parser (`add` is cli.build_parser's helper)."""
    cost = sub.add_parser("cost", help="training, serving and GPU cost estimates").add_subparsers(
        dest="action", required=True)

    train = add(cost, "train", cmd_cost_train, "FLOPs, GPU-hours, days and cost to train a model")
    train.add_argument("--params", required=True, help="active parameters, e.g. 7B or 7e9")
    train.add_argument("--tokens", required=True, help="training tokens, e.g. 2T")
    train.add_argument("--gpu", required=True, help="a name from `cost gpus`, e.g. H100-SXM")
    train.add_argument("--gpus", type=int, default=1)
    train.add_argument("--mfu", type=float, default=None, help="model FLOPs utilisation, default 0.40")
    train.add_argument("--usd-per-gpu-hour", type=float, default=None)
    train.add_argument("--precision", choices=["bf16", "fp8"], default="bf16")

    serve = add(cost, "serve", cmd_cost_serve, "memory, tokens/s and $ per 1M tokens to serve a model")
    serve.add_argument("--params", required=True, help="active parameters, e.g. 8B")
    serve.add_argument("--total-params", default=None, help="mixture-of-experts: all parameters")
    serve.add_argument("--gpu", required=True)
    serve.add_argument("--precision", choices=["bf16", "fp16", "fp8", "int8", "int4"], default="bf16")
    serve.add_argument("--batch", type=int, default=1)
    serve.add_argument("--context", type=int, default=4096)
    serve.add_argument("--layers", type=int, default=None)
    serve.add_argument("--kv-heads", type=int, default=None)
    serve.add_argument("--head-dim", type=int, default=None)
    serve.add_argument("--usd-per-gpu-hour", type=float, default=None)

    add(cost, "gpus", cmd_cost_gpus, "the GPU catalogue and the names --gpu accepts")

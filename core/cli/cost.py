"""`python -m core cost ...`: training, serving, capacity and GPU catalogue estimates.

Bad values are reported like every other error (one {"error": ...} object under --json, exit status
2). A negative size is parsed, then refused with a plain "must be positive": `--params -7B` and
`--params=-7B` both reach that check.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

from core.cli.capacity_check import run_check, save
from core.cli.common import add_command, print_result, progress_log
from core.economics import (
    CURVES,
    DEFAULT_MFU,
    DEFAULT_TARGET_UTILISATION,
    Scenario,
    estimate_serving,
    estimate_training,
    latency_curve,
    load_gpus,
    machine_from_bench,
    scenario_capacity,
    scenario_machine,
    scenario_resolution,
    scenario_traffic,
)

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
# argparse takes "-7B" for an option unless it looks like a negative number to the parser.
_NEGATIVE = re.compile(
    r"^-(?:(?:[0-9][0-9,_]*+\.?[0-9]*+|\.[0-9]++)(?:e[+-]?[0-9]++)?[kmbgt]?|inf(?:inity)?|nan)$", re.IGNORECASE
)


def parse_quantity(text: str, option: str | None = None) -> float:
    """'7e9', '7B', '70b', '2T', '1.5M', '500k', '1,000' -> a float (B = billion, T = trillion).
    Zero or negative: "must be positive" (naming `option` when given)."""
    raw = str(text).strip().replace(",", "").replace("_", "")
    m = re.fullmatch(r"([+-]?(?:[0-9]*+\.)?[0-9]++(?:e[+-]?[0-9]++)?)\s*+([kmbgt]?)", raw, flags=re.IGNORECASE)
    if not m:
        raise ValueError(f"Not a number: {text!r} (examples: 7e9, 7B, 70b, 2T, 1.5M)")
    value = float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if not math.isfinite(value):
        raise ValueError(
            f"{option} must be a finite number, not {text!r}" if option else f"{text!r} must be a finite number"
        )
    if value <= 0:
        raise ValueError(f"{option} must be positive, not {text!r}" if option else f"{text!r} must be positive")
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite float ("inf" and "nan" are refused: "must be a finite number")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def _accept_negative_sizes(parser: argparse.ArgumentParser) -> None:
    """Let `--params -7B` reach parse_quantity (and its "must be positive") instead of argparse's
    "expected one argument": values like -7B, -1.5e9, -70b (and -inf) count as negative numbers here. The
    cost commands have no option that starts with a digit, so nothing else is affected."""
    parser._negative_number_matcher = _NEGATIVE  # argparse's own hook (CPython 3.8-3.13)


def cmd_cost_train(args, settings):
    # --params/--tokens are parsed here (sizes like 7B), so a bad value gets a plain message.
    est = estimate_training(
        parse_quantity(args.params, "--params"),
        parse_quantity(args.tokens, "--tokens"),
        args.gpu,
        gpus=args.gpus,
        mfu=DEFAULT_MFU if args.mfu is None else args.mfu,
        usd_per_gpu_hour=args.usd_per_gpu_hour,
        precision=args.precision,
    )
    payload = {
        "flops": est.flops,
        "gpu_hours": est.gpu_hours,
        "wall_days": est.wall_days,
        "cost_usd": est.cost_usd,
        "mfu": est.mfu,
        "gpu": est.gpu,
        "gpus": est.gpus,
        "usd_per_gpu_hour": est.usd_per_gpu_hour,
        "energy_kwh": est.energy_kwh,
        "compute_optimal_tokens": est.compute_optimal_tokens,
        "notes": est.notes,
    }
    cost = f"${est.cost_usd:,.0f}" if est.cost_usd is not None else "unknown (no price: pass --usd-per-gpu-hour)"
    text = (
        f"{est.flops:.3g} FLOPs = {est.gpu_hours:,.0f} {est.gpu} GPU-hours at {est.mfu:.0%} MFU"
        f" = {est.wall_days:,.1f} days on {est.gpus} GPU(s); cost {cost}"
    )
    print_result(args, payload, text)


def cmd_cost_serve(args, settings):
    total = parse_quantity(args.total_params, "--total-params") if args.total_params else None
    utilisation = DEFAULT_TARGET_UTILISATION if args.utilisation is None else args.utilisation
    est = estimate_serving(
        parse_quantity(args.params, "--params"),
        args.gpu,
        precision=args.precision,
        batch=args.batch,
        context=args.context,
        layers=args.layers,
        kv_heads=args.kv_heads,
        head_dim=args.head_dim,
        utilisation=utilisation,
        usd_per_gpu_hour=args.usd_per_gpu_hour,
        total_params=total,
    )
    keys = (
        "weights_gb",
        "kv_cache_gb",
        "total_gb",
        "fits",
        "gpus_needed",
        "prefill_tok_s",
        "decode_tok_s",
        "decode_tok_s_per_sequence",
        "bound",
        "utilisation",
        "usd_per_gpu_hour",
        "usd_per_million_output_tokens",
        "usd_per_million_input_tokens",
        "gpu",
        "precision",
        "batch",
        "context",
        "layers",
        "kv_heads",
        "head_dim",
        "shape_estimated",
        "shape_source",
        "explanation",
    )
    print_result(args, {k: getattr(est, k) for k in keys}, "\n".join(est.explanation))


def cmd_cost_gpus(args, settings):
    gpus = [g.to_dict() for g in load_gpus().values()]
    lines = [
        f"{g['name']:10} {g['bf16_tflops']:8g} TFLOPS bf16 {g['memory_gb']:6g} GB {g['bandwidth_gbs']:7g} GB/s  "
        + (f"${g['usd_per_hour']:.2f}/h" if g["usd_per_hour"] is not None else "no price")
        for g in gpus
    ]
    print_result(args, {"gpus": gpus, "names": [g["name"] for g in gpus]}, "\n".join(lines))


def _capacity_scenario(args):
    """The default scenario with the command's options applied to its capacity and support inputs."""
    s = Scenario()
    for option, path in CAPACITY_OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            s = s.replace(path, value)
    if args.params:
        s = s.replace("serving.params", parse_quantity(args.params, "--params"))
    if args.bench:
        m = machine_from_bench(json.loads(Path(args.bench).read_text(encoding="utf-8")), slots=args.slots)
        for field in ("prefill_tok_s", "decode_tok_s", "slots"):
            s = s.replace(f"capacity.{field}", getattr(m, field))
    return s


def cmd_cost_capacity(args, settings):
    if args.check:
        levels = tuple(int(x) for x in args.check_clients.split(","))
        result = run_check(
            settings, levels, args.check_seconds, args.check_new_tokens, args.check_sources, log=progress_log(args)
        )
        result["saved"] = str(save(result, settings.data_dir))
        lines = [
            f"{c['clients']} client(s): {c['measured_throughput_per_s']:.3f} answers/s measured, "
            f"{c['predicted_throughput_per_s']:.3f} predicted; p50 {c['measured_p50_s']:.1f} s measured, "
            f"{c['predicted_p50_s']:.1f} s predicted"
            if c.get("requests", 1)
            else f"{c['clients']} client(s): {c['note']}"
            for c in result["checks"]
        ]
        print_result(args, result, "\n".join(lines))
        return
    s = _capacity_scenario(args)
    plan = scenario_capacity(s)
    curve = latency_curve(scenario_machine(s), scenario_traffic(s))
    res = scenario_resolution(s, plan)
    payload = plan.to_dict() | {
        "latency_curve": curve,
        "cost_per_resolved": res["cost"].to_dict() if res["cost"] else None,
        "resolution_comparison": res["comparison"].to_dict(orient="records"),
        "resolution_monte_carlo": res["monte_carlo"],
    }
    cost = res["cost"]
    text = (
        f"{plan.machines} x {plan.machine['name']} for a p90 of {plan.target_p90_s:g} s to the first word at the "
        f"busiest hour ({plan.peak_hour}:00, {plan.peak['first_word_p90_s']:.1f} s); over the day, written "
        f"answers p50 {plan.day['first_word_p50_s']:.1f} s / p90 {plan.day['first_word_p90_s']:.1f} s to the "
        f"first word; knee at {curve['knee_utilisation']:.0%} of a machine's capacity"
        + (f"; ${cost.per_resolved:.2f} per resolved conversation" if cost else "")
    )
    print_result(args, payload, text)


# `cost capacity` option -> scenario path
CAPACITY_OPTIONS = {
    "conversations_per_day": "capacity.conversations_per_day",
    "questions_per_conversation": "capacity.questions_per_conversation",
    "curve": "capacity.daily_curve",
    "tier1_share": "capacity.tier1_share",
    "tier2_share": "capacity.tier2_share",
    "prompt_tokens": "capacity.prompt_tokens",
    "output_tokens": "capacity.output_tokens",
    "machine": "capacity.machine",
    "prefill_tok_s": "capacity.prefill_tok_s",
    "decode_tok_s": "capacity.decode_tok_s",
    "slots": "capacity.slots",
    "slot_scaling": "capacity.slot_scaling",
    "usd_per_hour": "capacity.usd_per_machine_hour",
    "target_p90": "capacity.target_p90_s",
    "right_rate": "support.right_rate",
    "handover_rate": "support.handover_rate",
    "wrong_rate": "support.wrong_rate",
    "person_cost": "support.person_cost_per_conversation",
    "wrong_cost": "support.wrong_answer_cost",
}


def _capacity_parser(cost) -> None:
    cap = add_command(
        cost,
        "capacity",
        cmd_cost_capacity,
        "customers served at once, time to the first word, machines for a p90 target, cost per resolved conversation",
    )
    f = finite_float
    cap.add_argument("--conversations-per-day", type=f)
    cap.add_argument("--questions-per-conversation", type=f)
    cap.add_argument("--curve", choices=list(CURVES), help="when customers write (default office)")
    cap.add_argument("--tier1-share", type=f, help="curated FAQ answers, 0-1")
    cap.add_argument("--tier2-share", type=f, help="answers the model writes, 0-1 (the rest are handed over)")
    cap.add_argument("--prompt-tokens", type=f)
    cap.add_argument("--output-tokens", type=f)
    cap.add_argument("--machine", help="`this` (the speeds below) or a GPU from `cost gpus` (roofline)")
    cap.add_argument("--params", default=None, help="the model on a GPU, e.g. 1.5B (default 7B)")
    cap.add_argument("--bench", default=None, help="a `python -m core bench generate --json` result for the speeds")
    cap.add_argument("--prefill-tok-s", type=f)
    cap.add_argument("--decode-tok-s", type=f)
    cap.add_argument("--slots", type=int)
    cap.add_argument("--slot-scaling", type=f, help="0 = slots add throughput linearly, 1 = not at all")
    cap.add_argument("--usd-per-hour", type=f, help="this machine's price per hour (GPUs: the catalogue's)")
    cap.add_argument("--target-p90", type=f, help="seconds to the first word of a written answer, p90")
    cap.add_argument("--right-rate", type=f)
    cap.add_argument("--handover-rate", type=f)
    cap.add_argument("--wrong-rate", type=f)
    cap.add_argument("--person-cost", type=f, help="$ per handed-over conversation (illustrative default 5)")
    cap.add_argument("--wrong-cost", type=f, help="$ per wrong answer (illustrative default 10)")
    cap.add_argument("--check", action="store_true", help="run a short load on the real model and compare")
    cap.add_argument("--check-clients", default="1,4", help="load levels: clients asking at once")
    cap.add_argument("--check-seconds", type=f, default=60.0, help="seconds per load level")
    cap.add_argument("--check-new-tokens", type=int, default=80, help="tokens written per answer in the check")
    cap.add_argument("--check-sources", type=int, default=4, help="~150-token sources per prompt (4: ~670 tokens)")


def register(sub) -> None:
    """Add this module's sub-commands to the top-level parser."""
    add = add_command
    cost = sub.add_parser("cost", help="training, serving and GPU cost estimates").add_subparsers(
        dest="action", required=True
    )

    train = add(cost, "train", cmd_cost_train, "FLOPs, GPU-hours, days and cost to train a model")
    _accept_negative_sizes(train)
    train.add_argument("--params", required=True, help="active parameters, e.g. 7B or 7e9")
    train.add_argument("--tokens", required=True, help="training tokens, e.g. 2T")
    train.add_argument("--gpu", required=True, help="a name from `cost gpus`, e.g. H100-SXM")
    train.add_argument("--gpus", type=int, default=1, help="number of GPUs (a whole number)")
    train.add_argument("--mfu", type=finite_float, default=None, help="model FLOPs utilisation, default 0.40")
    train.add_argument(
        "--usd-per-gpu-hour", type=finite_float, default=None, help="default: the catalogue's on-demand price"
    )
    train.add_argument("--precision", choices=["bf16", "fp8"], default="bf16")

    serve = add(cost, "serve", cmd_cost_serve, "memory, tokens/s and $ per 1M tokens to serve a model")
    _accept_negative_sizes(serve)
    serve.add_argument("--params", required=True, help="active parameters, e.g. 8B")
    serve.add_argument("--total-params", default=None, help="mixture-of-experts: all parameters")
    serve.add_argument("--gpu", required=True)
    serve.add_argument("--precision", choices=["bf16", "fp16", "fp8", "int8", "int4"], default="bf16")
    serve.add_argument("--batch", type=int, default=1)
    serve.add_argument("--context", type=int, default=4096)
    serve.add_argument("--layers", type=int, default=None)
    serve.add_argument("--kv-heads", type=int, default=None)
    serve.add_argument("--head-dim", type=int, default=None)
    serve.add_argument(
        "--usd-per-gpu-hour", type=finite_float, default=None, help="default: the catalogue's on-demand price"
    )
    serve.add_argument(
        "--utilisation",
        type=finite_float,
        default=None,
        help="share of paid GPU hours spent serving, for $ per 1M tokens; default 0.60 as on the "
        "calculator page (headroom for peaks and quiet hours); 1 = busy all the time",
    )

    add(cost, "gpus", cmd_cost_gpus, "the GPU catalogue and the names --gpu accepts")
    _capacity_parser(cost)

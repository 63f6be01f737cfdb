"""What it costs to serve a model: memory (weights + KV cache), throughput (roofline), $ per token."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from core.economics.hardware import GPU, ceil_div, check_precision, check_rate, get_gpu
from core.economics.messages import InputError, Message

PRECISION_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
MEMORY_HEADROOM = 0.90  # ~10% of GPU memory goes to the framework, activations and fragmentation

# Efficiency assumptions (share of the datasheet peak actually reached). Real servers stay below the
# roofline: kernels, scheduling and communication all cost time. Change them when you have measurements.
DEFAULT_BANDWIDTH_EFFICIENCY = 0.70  # memory bandwidth utilisation ("MBU", Databricks 2023) during decode
DEFAULT_COMPUTE_EFFICIENCY = 0.50  # share of peak FLOP/s during prefill and compute-bound decode

# Shapes of well-known open models (their config.json on Hugging Face): used when the caller does not
# give layers / KV heads / head dimension, picking the model nearest in size.
KNOWN_SHAPES: list[tuple[str, float, int, int, int]] = [
    # name, parameters, layers, KV heads, head dim
    ("Qwen2.5-0.5B", 0.49e9, 24, 2, 64),
    ("Llama-3.2-1B", 1.24e9, 16, 8, 64),
    ("Qwen2.5-1.5B", 1.54e9, 28, 2, 128),
    ("Llama-3.2-3B", 3.21e9, 28, 8, 128),
    ("Qwen2.5-7B", 7.62e9, 28, 4, 128),
    ("Llama-3.1-8B", 8.03e9, 32, 8, 128),
    ("Qwen2.5-14B", 14.7e9, 48, 8, 128),
    ("Qwen2.5-32B", 32.8e9, 64, 8, 128),
    ("Llama-3.1-70B", 70.6e9, 80, 8, 128),
    ("Qwen2.5-72B", 72.7e9, 80, 8, 128),
    ("Llama-3.1-405B", 405.9e9, 126, 8, 128),
]


@dataclass
class ServingEstimate:
    params: float  # active parameters per token (compute)
    weight_params: float  # all parameters held in memory (= params unless mixture-of-experts)
    gpu: str
    precision: str
    kv_precision: str
    batch: int
    context: int
    layers: int
    kv_heads: int
    head_dim: int
    shape_estimated: bool
    shape_source: str
    weights_gb: float
    kv_gb_per_token: float  # per sequence
    kv_cache_gb: float
    total_gb: float
    usable_gb_per_gpu: float
    fits: bool  # on one GPU
    gpus_needed: int  # GPUs one copy of the model needs (weights + KV cache split across them)
    prefill_tok_s: float  # prompt tokens per second per GPU
    decode_tok_s: float  # output tokens per second per GPU, all sequences in the batch together
    decode_tok_s_per_sequence: float  # what one user sees
    bound: str  # "memory" or "compute": what limits decode at this batch
    step_ms: float  # one decode step (one token for every sequence in the batch)
    ttft_s: float  # time to first token for one prompt of prompt_tokens
    prompt_tokens: int
    utilisation: float
    usd_per_gpu_hour: float | None
    usd_per_million_output_tokens: float | None
    usd_per_million_input_tokens: float | None
    explanation: list = field(default_factory=list)  # core.economics.messages.Message: English str + code

    def to_dict(self) -> dict:
        return asdict(self)


def estimate_shape(params: float) -> tuple[str, int, int, int]:
    """(model name, layers, KV heads, head dim) of the known model nearest in size (log scale)."""
    name, _, layers, kv_heads, head_dim = min(KNOWN_SHAPES, key=lambda s: abs(math.log(s[1] / params)))
    return name, layers, kv_heads, head_dim


def weights_gb(params: float, precision: str = "bf16") -> float:
    """Weights memory = parameters x bytes per parameter (bf16/fp16 2, fp8/int8 1, int4 0.5)."""
    return params * PRECISION_BYTES[check_precision(precision)] / 1e9


def kv_cache_gb(
    layers: int, kv_heads: int, head_dim: int, context: int, batch: int = 1, kv_precision: str = "bf16"
) -> float:
    """KV cache = 2 (a key and a value) x layers x KV heads x head dim x tokens x sequences x bytes.

    Every token kept in context stores one key and one value vector per layer and KV head
    (grouped-query attention shares each KV head among several query heads, hence "KV heads").
    """
    return 2 * layers * kv_heads * head_dim * context * batch * PRECISION_BYTES[check_precision(kv_precision)] / 1e9


def _positive_int(value, what: str) -> int:
    if value is None or not math.isfinite(value) or value < 1 or int(value) != value:
        raise InputError("whole_at_least_1", what=what)
    return int(value)


def _share(value: float, what: str) -> float:
    if value is None or not math.isfinite(value) or not 0 < value <= 1:
        raise InputError("share_open_closed", what=what)
    return float(value)


def _weight_params(params: float, total_params: float | None) -> float:
    """The parameters held in memory: total_params for a mixture-of-experts, else params (both checked)."""
    if params is None or not math.isfinite(params) or params <= 0:
        raise InputError("positive_number", what="params")
    weight_params = float(total_params) if total_params else float(params)
    if weight_params < params:
        raise InputError("total_params")
    return weight_params


@dataclass
class _Shape:
    """The model's attention shape, as given or taken from the known model nearest in size."""

    layers: int
    kv_heads: int
    head_dim: int
    estimated: bool
    source: str  # "given", or the name of the known model


def _model_shape(layers: int | None, kv_heads: int | None, head_dim: int | None, weight_params: float) -> _Shape:
    """All three of layers, KV heads and head dim as given (checked), or all three estimated; never a mix."""
    given = (layers, kv_heads, head_dim)
    if all(v is not None for v in given):
        layers, kv_heads, head_dim = (
            _positive_int(v, w) for v, w in zip(given, ("layers", "kv_heads", "head_dim"), strict=False)
        )
        return _Shape(layers, kv_heads, head_dim, False, "given")
    if any(v is not None for v in given):
        raise InputError("shape_partial")
    source, layers, kv_heads, head_dim = estimate_shape(weight_params)
    return _Shape(layers, kv_heads, head_dim, True, source)


@dataclass
class _Roofline:
    """One decode step and prefill over the GPUs holding one copy of the model; tokens/s per GPU."""

    memory_s: float  # a decode step's time to read the weights and the KV cache
    compute_s: float  # a decode step's time for the maths of the whole batch
    step_s: float
    decode: float  # output tokens/s per GPU, all sequences in the batch together
    prefill: float  # prompt tokens/s per GPU

    @property
    def bound(self) -> str:
        return "memory" if self.memory_s >= self.compute_s else "compute"


def _roofline(
    g: GPU,
    params: float,
    precision: str,
    total_gb: float,
    batch: int,
    n: int,
    bandwidth_efficiency: float,
    compute_efficiency: float,
) -> _Roofline:
    """Decode and prefill speed from the roofline: a step reads all memory once or does the batch's maths,
    whichever takes longer; prefill is compute-bound."""
    # Roofline over the n GPUs holding one copy; reported per GPU.
    flops_per_token = 2.0 * params
    peak = g.peak_flops(precision) * compute_efficiency * n
    bandwidth = g.bandwidth_gbs * 1e9 * bandwidth_efficiency * n
    memory_s = total_gb * 1e9 / bandwidth
    compute_s = batch * flops_per_token / peak
    step_s = max(memory_s, compute_s)
    return _Roofline(memory_s, compute_s, step_s, batch / step_s / n, peak / flops_per_token / n)


def estimate_serving(
    params: float,
    gpu: str | GPU,
    precision: str = "bf16",
    batch: int = 1,
    context: int = 4096,
    layers: int | None = None,
    kv_heads: int | None = None,
    head_dim: int | None = None,
    prompt_tokens: int | None = None,
    utilisation: float = 1.0,
    usd_per_gpu_hour: float | None = None,
    kv_precision: str = "bf16",
    total_params: float | None = None,
    bandwidth_efficiency: float = DEFAULT_BANDWIDTH_EFFICIENCY,
    compute_efficiency: float = DEFAULT_COMPUTE_EFFICIENCY,
) -> ServingEstimate:
    """Memory, speed and cost of serving a model on one kind of GPU.

    Memory: weights (total parameters x bytes) + KV cache (2 x layers x KV heads x head dim x context x
    batch x bytes). It fits when that is at most 90% of one GPU's memory; otherwise the model is split
    over gpus_needed = ceil(total / (90% of one GPU)) GPUs (tensor parallelism).

    Speed, the roofline (Williams et al. 2009; applied to LLMs in Pope et al. 2022):
    - Prefill (reading the prompt) is compute-bound: tokens/s = peak FLOP/s x efficiency / (2 x N).
    - Decode makes one token per sequence per step, and each step must read all weights and the
      KV cache from memory: step time = max(bytes read / (bandwidth x efficiency),
      batch x 2 x N / (peak FLOP/s x efficiency)). Output tokens/s = batch / step time. Small batches
      are memory-bound (the GPU waits for memory), so larger batches are almost free until compute binds.
    Cost: $ per 1M output tokens = $ per GPU-hour / (output tokens/s per GPU x 3,600 x utilisation) x 1e6.
    At utilisation 1 the GPU is busy all the time: a floor, not what a service with quiet hours pays.
    Mixture-of-experts: give total_params for memory; each step is assumed to read all of it (true
    at larger batches, pessimistic at batch 1). Attention maths over the context is left out.
    """
    g = get_gpu(gpu)
    precision, kv_precision = check_precision(precision), check_precision(kv_precision)
    weight_params = _weight_params(params, total_params)
    batch = _positive_int(batch, "batch")
    context = _positive_int(context, "context")
    utilisation = _share(utilisation, "utilisation")
    bandwidth_efficiency = _share(bandwidth_efficiency, "bandwidth_efficiency")
    compute_efficiency = _share(compute_efficiency, "compute_efficiency")
    prompt_tokens = _positive_int(prompt_tokens if prompt_tokens is not None else max(1, context // 2), "prompt_tokens")
    return _estimate(
        g,
        params=params,
        weight_params=weight_params,
        precision=precision,
        kv_precision=kv_precision,
        batch=batch,
        context=context,
        shape=_model_shape(layers, kv_heads, head_dim, weight_params),
        prompt_tokens=prompt_tokens,
        utilisation=utilisation,
        usd_per_gpu_hour=usd_per_gpu_hour,
        bandwidth_efficiency=bandwidth_efficiency,
        compute_efficiency=compute_efficiency,
    )


def _estimate(
    g: GPU,
    *,
    params: float,
    weight_params: float,
    precision: str,
    kv_precision: str,
    batch: int,
    context: int,
    shape: _Shape,
    prompt_tokens: int,
    utilisation: float,
    usd_per_gpu_hour: float | None,
    bandwidth_efficiency: float,
    compute_efficiency: float,
) -> ServingEstimate:
    """estimate_serving's sums on checked inputs: memory, GPUs needed, roofline speed, $ per token."""
    w_gb = weights_gb(weight_params, precision)
    kv_tok = kv_cache_gb(shape.layers, shape.kv_heads, shape.head_dim, 1, 1, kv_precision)
    kv_gb = kv_tok * context * batch
    total = w_gb + kv_gb
    usable = g.memory_gb * MEMORY_HEADROOM
    n = ceil_div(total, usable)
    speed = _roofline(g, params, precision, total, batch, n, bandwidth_efficiency, compute_efficiency)

    rate = usd_per_gpu_hour if usd_per_gpu_hour is not None else g.usd_per_hour
    if rate is not None:
        check_rate(rate)
    per_m_out = rate / (speed.decode * 3600 * utilisation) * 1e6 if rate is not None else None
    per_m_in = rate / (speed.prefill * 3600 * utilisation) * 1e6 if rate is not None else None

    estimate = ServingEstimate(
        params=float(params),
        weight_params=weight_params,
        gpu=g.name,
        precision=precision,
        kv_precision=kv_precision,
        batch=batch,
        context=context,
        layers=shape.layers,
        kv_heads=shape.kv_heads,
        head_dim=shape.head_dim,
        shape_estimated=shape.estimated,
        shape_source=shape.source,
        weights_gb=w_gb,
        kv_gb_per_token=kv_tok,
        kv_cache_gb=kv_gb,
        total_gb=total,
        usable_gb_per_gpu=usable,
        fits=n == 1,
        gpus_needed=n,
        prefill_tok_s=speed.prefill,
        decode_tok_s=speed.decode,
        decode_tok_s_per_sequence=1 / speed.step_s,
        bound=speed.bound,
        step_ms=speed.step_s * 1000,
        ttft_s=prompt_tokens / (speed.prefill * n),
        prompt_tokens=prompt_tokens,
        utilisation=utilisation,
        usd_per_gpu_hour=rate,
        usd_per_million_output_tokens=per_m_out,
        usd_per_million_input_tokens=per_m_in,
    )
    estimate.explanation = _explanation(estimate, g, speed, bandwidth_efficiency, compute_efficiency)
    return estimate


def _explanation(
    e: ServingEstimate, g: GPU, speed: _Roofline, bandwidth_efficiency: float, compute_efficiency: float
) -> list:
    """The working behind an estimate, one Message per line: memory, decode, prefill, shape, cost."""
    n = e.gpus_needed
    # The working, line by line: English strings that carry a code and values (see core.economics.messages).
    lines = [
        Message(
            "work_memory_fits" if n == 1 else "work_memory_split",
            weights=f"{e.weights_gb:,.1f}",
            weight_params=f"{e.weight_params / 1e9:,.1f}",
            bytes=f"{PRECISION_BYTES[e.precision]:g}",
            kv=f"{e.kv_cache_gb:,.2f}",
            layers=e.layers,
            kv_heads=e.kv_heads,
            head_dim=e.head_dim,
            context=f"{e.context:,}",
            batch=e.batch,
            kv_bytes=f"{PRECISION_BYTES[e.kv_precision]:g}",
            total=f"{e.total_gb:,.1f}",
            gpu=g.name,
            usable=f"{e.usable_gb_per_gpu:,.1f}",
            n=n,
        ),
        Message(
            "work_decode",
            total=f"{e.total_gb:,.1f}",
            bandwidth=f"{g.bandwidth_gbs * bandwidth_efficiency * n:,.0f}",
            bandwidth_pct=f"{bandwidth_efficiency:.0%}",
            memory_ms=f"{speed.memory_s * 1000:,.1f}",
            batch=e.batch,
            compute_ms=f"{speed.compute_s * 1000:,.2f}",
            compute_pct=f"{compute_efficiency:.0%}",
            bound=e.bound,
            decode=f"{e.decode_tok_s:,.0f}",
            per_sequence=f"{1 / speed.step_s:,.1f}",
        ),
        Message(
            "work_prefill",
            prefill=f"{e.prefill_tok_s:,.0f}",
            prompt=f"{e.prompt_tokens:,}",
            ttft=f"{e.prompt_tokens / (e.prefill_tok_s * n):,.2f}",
        ),
    ]
    if e.shape_estimated:
        lines.append(Message("work_shape", model=e.shape_source))
    if e.usd_per_gpu_hour is None:
        lines.append(Message("work_no_price", gpu=g.name))
    else:
        lines.append(
            Message(
                "work_cost",
                rate=f"{e.usd_per_gpu_hour:,.2f}",
                utilisation=f"{e.utilisation:.0%}",
                per_m_out=f"{e.usd_per_million_output_tokens:,.3f}",
                per_m_in=f"{e.usd_per_million_input_tokens:,.3f}",
            )
        )
    return lines

"""What it costs to train or fine-tune a model: FLOPs -> GPU-hours -> days -> dollars."""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from core.economics.hardware import DATA_DIR, GPU, ceil_div, check_rate, get_gpu
from core.economics.messages import InputError, Message

DEFAULT_MFU = 0.40
"""Model FLOPs utilisation: the share of the GPUs' peak throughput that goes into the model's maths.

Published large runs: PaLM 540B 46.2% on TPU v4 (Chowdhery et al. 2022, Table 3), Llama 3 405B
38-43% on H100 (Meta, "The Llama 3 Herd of Models", 2024, Table 4), MegaScale 55.2% on 12,288 GPUs
(Jiang et al. 2024), GPT-3 21.3% on V100 (as computed in the PaLM paper). We use 40%, the middle of
the 35-45% where well-tuned modern runs cluster; small teams on few GPUs often reach less.
"""

HOURS_PER_YEAR = 365 * 24
TRAINING_RUNS_CSV = DATA_DIR / "training_runs.csv"

# Bytes of GPU memory per parameter for mixed-precision Adam: bf16 weights (2) + bf16 gradients (2) +
# fp32 master weights, momentum and variance (12) = 16 (Rajbhandari et al. 2020, ZeRO, Sec. 3.1).
ADAM_BYTES_PER_PARAM = 16
FINETUNE_METHODS = ("full", "lora", "qlora")
BASE_WEIGHT_BYTES = {"full": 2.0, "lora": 2.0, "qlora": 0.5}  # frozen base weights: bf16, or 4-bit for QLoRA
MEMORY_HEADROOM = 0.90  # keep ~10% of GPU memory for the framework, buffers and fragmentation


@dataclass
class OwnedHardware:
    """Buying GPUs instead of renting them.

    Cost per GPU-hour used = purchase price / (amortisation years x 8,760 h x utilisation)
                              + TDP kW x PUE x $/kWh.
    Defaults are assumptions to change: 4-year life (a common depreciation period for servers),
    PUE 1.2 (a modern efficient data centre; older sites run 1.5+), $0.10/kWh, 70% of hours in use.
    """

    purchase_usd_per_gpu: float | None = None  # None: the catalogue's purchase price
    amortisation_years: float = 4.0
    pue: float = 1.2
    usd_per_kwh: float = 0.10
    utilisation: float = 0.70

    def validate(self) -> OwnedHardware:
        if self.purchase_usd_per_gpu is not None:
            check_rate(self.purchase_usd_per_gpu, "purchase")
        if (
            self.amortisation_years is None
            or not math.isfinite(self.amortisation_years)
            or self.amortisation_years <= 0
        ):
            raise InputError("amortisation_years")
        if self.pue is None or not math.isfinite(self.pue) or self.pue < 1:
            raise InputError("pue")
        check_rate(self.usd_per_kwh, "electricity")
        if self.utilisation is None or not 0 < self.utilisation <= 1:
            raise InputError("hw_utilisation")
        return self

    def cost_per_gpu_hour(self, gpu: GPU) -> tuple[float, float]:
        """(amortisation $, energy $) per GPU-hour of use."""
        purchase = self.purchase_usd_per_gpu if self.purchase_usd_per_gpu is not None else gpu.purchase_usd
        if purchase is None:
            raise InputError("no_purchase_price", gpu=gpu.name)
        amortisation = purchase / (self.amortisation_years * HOURS_PER_YEAR * self.utilisation)
        energy = (gpu.tdp_w or 0) / 1000 * self.pue * self.usd_per_kwh
        return amortisation, energy


@dataclass
class TrainingEstimate:
    params: float
    tokens: float
    gpu: str
    gpus: int
    mfu: float
    precision: str
    flops: float
    peak_flops_per_gpu: float
    gpu_hours: float
    wall_days: float
    usd_per_gpu_hour: float | None
    cost_usd: float | None  # None: no price known for this GPU and none given
    energy_kwh: float | None
    pricing: str  # "cloud" or "owned"
    cost_breakdown: dict[str, float] = field(default_factory=dict)
    compute_optimal_tokens: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FinetuneEstimate(TrainingEstimate):
    method: str = "full"
    trainable_params: float = 0.0
    memory_gb: float = 0.0  # weights + gradients + optimizer state, all GPUs together (activations excluded)
    memory_per_gpu_gb: float = 0.0
    fits: bool = True
    gpus_for_memory: int = 1


def _check_positive(value: float, what: str) -> float:
    if value is None or not math.isfinite(value) or value <= 0:
        raise InputError("positive_number", what=what)
    return float(value)


def check_mfu(mfu: float) -> float:
    if mfu is None or not math.isfinite(mfu) or not 0 < mfu <= 1:
        raise InputError("mfu")
    return float(mfu)


def check_gpus(gpus: int) -> int:
    if gpus is None or gpus < 1 or int(gpus) != gpus:
        raise InputError("gpus")
    return int(gpus)


def training_flops(params: float, tokens: float) -> float:
    """Training compute = 6 x N x D floating-point operations.

    N = parameters (for mixture-of-experts models, the parameters active per token), D = training
    tokens. Each token costs 2N for the forward pass and 4N for the backward pass (Kaplan et al.
    2020, "Scaling Laws for Neural Language Models", Sec. 2.1). Attention adds a few percent more,
    which this ignores.
    """
    return 6.0 * _check_positive(params, "params") * _check_positive(tokens, "tokens")


def compute_optimal_tokens(params: float) -> float:
    """Compute-optimal training tokens = 20 x N (Hoffmann et al. 2022, "Chinchilla").

    The data size that gives the best model for a fixed compute budget. Models meant to be served
    cheaply are often trained on far more (Llama 3 8B: 15T tokens, ~1,900 per parameter).
    """
    return 20.0 * _check_positive(params, "params")


def _price_and_energy(gpu: GPU, gpu_hours: float, usd_per_gpu_hour: float | None, owned: OwnedHardware | None):
    energy_kwh = gpu_hours * gpu.tdp_w / 1000 * (owned.pue if owned else 1.0) if gpu.tdp_w else None
    if owned is not None:
        amortisation, energy = owned.validate().cost_per_gpu_hour(gpu)
        breakdown = {"hardware amortisation": amortisation * gpu_hours, "energy": energy * gpu_hours}
        return amortisation + energy, sum(breakdown.values()), energy_kwh, "owned", breakdown
    rate = usd_per_gpu_hour if usd_per_gpu_hour is not None else gpu.usd_per_hour
    if rate is None:
        return None, None, energy_kwh, "cloud", {}
    check_rate(rate)
    return rate, rate * gpu_hours, energy_kwh, "cloud", {"GPU rental": rate * gpu_hours}


def estimate_training(
    params: float,
    tokens: float,
    gpu: str | GPU,
    gpus: int = 1,
    mfu: float = DEFAULT_MFU,
    usd_per_gpu_hour: float | None = None,
    precision: str = "bf16",
    owned: OwnedHardware | None = None,
) -> TrainingEstimate:
    """Time and money to train a model from scratch.

    FLOPs = 6 x N x D.  GPU-hours = FLOPs / (peak FLOP/s per GPU x MFU) / 3,600.
    Wall-clock days = GPU-hours / number of GPUs / 24.  Cost = GPU-hours x $ per GPU-hour
    (cloud: the catalogue's on-demand price unless you give one; owned: see OwnedHardware).
    Energy = GPU-hours x TDP (x PUE when owned): GPUs only, the rest of the server draws more.
    """
    g = get_gpu(gpu)
    flops = training_flops(params, tokens)
    return _estimate(g, flops, params, tokens, gpus, mfu, usd_per_gpu_hour, precision, owned, TrainingEstimate)


def _estimate(g: GPU, flops, params, tokens, gpus, mfu, usd_per_gpu_hour, precision, owned, cls, **extra):
    gpus, mfu = check_gpus(gpus), check_mfu(mfu)
    peak = g.peak_flops(precision)
    gpu_hours = flops / (peak * mfu) / 3600
    rate, cost, energy_kwh, pricing, breakdown = _price_and_energy(g, gpu_hours, usd_per_gpu_hour, owned)
    notes = []
    if cost is None:
        notes.append(Message("note_no_price", gpu=g.name))
    return cls(
        params=float(params),
        tokens=float(tokens),
        gpu=g.name,
        gpus=gpus,
        mfu=mfu,
        precision=precision,
        flops=flops,
        peak_flops_per_gpu=peak,
        gpu_hours=gpu_hours,
        wall_days=gpu_hours / gpus / 24,
        usd_per_gpu_hour=rate,
        cost_usd=cost,
        energy_kwh=energy_kwh,
        pricing=pricing,
        cost_breakdown=breakdown,
        compute_optimal_tokens=compute_optimal_tokens(params),
        notes=notes,
        **extra,
    )


def finetune_flops(params: float, tokens: float, method: str = "full", lora_fraction: float = 0.01) -> float:
    """Fine-tuning compute.

    Full fine-tuning is training: 6 x N x D. LoRA / QLoRA (Hu et al. 2021; Dettmers et al. 2023)
    freeze the model and train small adapters holding a fraction f of the parameters:
    forward 2ND + gradients flowing back through the activations 2ND + weight gradients only for
    the adapters 2fND = (4 + 2f) x N x D, about two-thirds of full fine-tuning.
    """
    method = _check_method(method)
    base = 6.0 if method == "full" else 4.0 + 2.0 * _check_fraction(lora_fraction)
    return base * _check_positive(params, "params") * _check_positive(tokens, "tokens")


def finetune_memory_gb(params: float, method: str = "full", lora_fraction: float = 0.01) -> float:
    """GPU memory for weights, gradients and optimizer state (activations excluded: they depend on
    batch size and sequence length and can be traded for compute with checkpointing).

    Full: 16 bytes per parameter (mixed-precision Adam, ZeRO paper). LoRA: the frozen model at
    2 bytes per parameter + 16 bytes per adapter parameter. QLoRA: the frozen model at 0.5 bytes
    (4-bit) + 16 bytes per adapter parameter.
    """
    method = _check_method(method)
    n = _check_positive(params, "params")
    if method == "full":
        return n * ADAM_BYTES_PER_PARAM / 1e9
    return (n * BASE_WEIGHT_BYTES[method] + n * _check_fraction(lora_fraction) * ADAM_BYTES_PER_PARAM) / 1e9


def _check_method(method: str) -> str:
    if method not in FINETUNE_METHODS:
        raise InputError("unknown_method", method=method, choices=", ".join(FINETUNE_METHODS))
    return method


def _check_fraction(f: float) -> float:
    if f is None or not 0 < f <= 1:
        raise InputError("adapter_fraction")
    return float(f)


def estimate_finetune(
    params: float,
    tokens: float,
    gpu: str | GPU,
    method: str = "full",
    lora_fraction: float = 0.01,
    gpus: int = 1,
    mfu: float = DEFAULT_MFU,
    usd_per_gpu_hour: float | None = None,
    precision: str = "bf16",
    owned: OwnedHardware | None = None,
) -> FinetuneEstimate:
    """Time, money and memory to fine-tune on `tokens` tokens (dataset tokens x epochs).

    FLOPs from finetune_flops, then GPU-hours, days and cost exactly as for training. Memory from
    finetune_memory_gb, spread over the GPUs (sharded, as with FSDP / ZeRO-3); it fits when each
    GPU's share is at most 90% of its memory.
    """
    g = get_gpu(gpu)
    method = _check_method(method)
    flops = finetune_flops(params, tokens, method, lora_fraction)
    memory = finetune_memory_gb(params, method, lora_fraction)
    usable = g.memory_gb * MEMORY_HEADROOM
    n_gpus = check_gpus(gpus)
    trainable = params if method == "full" else params * lora_fraction
    est = _estimate(
        g,
        flops,
        params,
        tokens,
        n_gpus,
        mfu,
        usd_per_gpu_hour,
        precision,
        owned,
        FinetuneEstimate,
        method=method,
        trainable_params=float(trainable),
        memory_gb=memory,
        memory_per_gpu_gb=memory / n_gpus,
        fits=memory / n_gpus <= usable,
        gpus_for_memory=max(1, ceil_div(memory, usable)),
    )
    if not est.fits:
        est.notes.append(
            Message(
                "note_ft_memory", memory=f"{memory:,.0f}", n=est.gpus_for_memory, gpu=g.name, gpu_gb=f"{g.memory_gb:g}"
            )
        )
    return est


def implied_mfu(params: float, tokens: float, gpu: str | GPU, gpu_hours: float, precision: str = "bf16") -> float:
    """The MFU a reported run achieved: 6 x N x D / (GPU-hours x 3,600 x peak FLOP/s per GPU)."""
    g = get_gpu(gpu)
    return training_flops(params, tokens) / (_check_positive(gpu_hours, "gpu_hours") * 3600 * g.peak_flops(precision))


def load_training_runs() -> list[dict]:
    """Published training runs (data/economics/training_runs.csv), numbers as floats, blanks as None."""
    with TRAINING_RUNS_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    text = {"model", "gpu", "notes", "source"}
    return [{k: (v if k in text else (float(v) if v.strip() else None)) for k, v in r.items()} for r in rows]


def calibration_table(mfu: float = DEFAULT_MFU):
    """For each published run: our GPU-hours at `mfu` next to the reported GPU-hours, and the implied MFU.

    Uses active parameters (N) and bf16 peak for every run, so implied MFUs are comparable.
    """

    rows = []
    for r in load_training_runs():
        est = estimate_training(r["params_active"], r["tokens"], r["gpu"], mfu=mfu)
        rows.append(
            {
                "model": r["model"],
                "gpu": r["gpu"],
                "params_active": r["params_active"],
                "tokens": r["tokens"],
                "flops": est.flops,
                "reported_flops": r["reported_flops"],
                "reported_gpu_hours": r["gpu_hours"],
                "estimated_gpu_hours": est.gpu_hours,
                "ratio": est.gpu_hours / r["gpu_hours"],
                "implied_mfu": implied_mfu(r["params_active"], r["tokens"], r["gpu"], r["gpu_hours"]),
                "source": r["source"],
            }
        )
    return pd.DataFrame(rows)

"""The accelerator catalogue: peak throughput, memory, bandwidth, power and price per GPU.

Read from `data/economics/gpus.csv`, where every row names its spec and price source. Prices are
Epoch AI's cloud price rows: the median on-demand $/GPU-hour of the latest year with rows for that
chip (a median, because one listing can be 5x another's for the same chip).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from core.economics.messages import InputError

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "economics"
GPUS_CSV = DATA_DIR / "gpus.csv"

PRECISIONS = ("bf16", "fp16", "fp8", "int8", "int4")

# Short names people type; the catalogue's own names (any case, with or without dashes) work too.
ALIASES = {
    "a100": "A100-80GB",
    "a10080": "A100-80GB",
    "a100sxm": "A100-80GB",
    "a10040": "A100-40GB",
    "h100": "H100-SXM",
    "h100sxm5": "H100-SXM",
    "h100pcie": "H100-PCIe",
    "h200sxm": "H200",
    "h800sxm": "H800",
    "h800sxm5": "H800",
    "4090": "RTX-4090",
    "rtx4090": "RTX-4090",
    "geforcertx4090": "RTX-4090",
    "teslat4": "T4",
    "v100sxm2": "V100",
    "teslav100": "V100",
    "mi300": "MI300X",
    "amdmi300x": "MI300X",
}


@dataclass(frozen=True)
class GPU:
    """One accelerator. Throughput is dense (no 2:4 sparsity), per GPU."""

    name: str
    display_name: str
    vendor: str
    bf16_tflops: float
    fp8_tflops: float | None
    int8_tops: float | None
    memory_gb: float
    bandwidth_gbs: float
    tdp_w: float | None
    usd_per_hour: float | None
    price_date: str | None
    purchase_usd: float | None
    purchase_date: str | None
    spec_source: str
    price_source: str
    notes: str

    def peak_flops(self, precision: str = "bf16") -> float:
        """Peak dense FLOP/s for matrix maths at a precision.

        fp8 and int8 use their own tensor-core rate where the chip has one, else the bf16 rate (the
        numbers are stored at low precision but multiplied at bf16). int4 is weight-only
        quantisation (activations stay 16-bit), so it runs at the bf16 rate.
        """
        precision = check_precision(precision)
        if precision == "fp8" and self.fp8_tflops:
            return self.fp8_tflops * 1e12
        if precision == "int8" and self.int8_tops:
            return self.int8_tops * 1e12
        return self.bf16_tflops * 1e12

    def to_dict(self) -> dict:
        return asdict(self)


def check_precision(precision: str) -> str:
    p = (precision or "").strip().lower()
    if p not in PRECISIONS:
        raise InputError("unknown_precision", precision=precision, choices=", ".join(PRECISIONS))
    return p


def check_rate(rate: float, what: str = "gpu_price") -> float:
    """A price per GPU-hour (or any price): a finite number, 0 or more."""
    if rate is None or not math.isfinite(rate):
        raise InputError("not_finite", what=what)
    if rate < 0:
        raise InputError("negative", what=what)
    return float(rate)


def _num(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


@lru_cache(maxsize=1)
def _catalogue() -> tuple[GPU, ...]:
    with GPUS_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    gpus = []
    for r in rows:
        gpus.append(
            GPU(
                name=r["name"],
                display_name=r["display_name"],
                vendor=r["vendor"],
                bf16_tflops=float(r["bf16_tflops"]),
                fp8_tflops=_num(r["fp8_tflops"]),
                int8_tops=_num(r["int8_tops"]),
                memory_gb=float(r["memory_gb"]),
                bandwidth_gbs=float(r["bandwidth_gbs"]),
                tdp_w=_num(r["tdp_w"]),
                usd_per_hour=_num(r["usd_per_hour"]),
                price_date=r["price_date"] or None,
                purchase_usd=_num(r["purchase_usd"]),
                purchase_date=r["purchase_date"] or None,
                spec_source=r["spec_source"],
                price_source=r["price_source"],
                notes=r["notes"],
            )
        )
    return tuple(gpus)


def load_gpus() -> dict[str, GPU]:
    """The catalogue, keyed by the short name `--gpu` accepts (A100-80GB, H100-SXM, ...), in file order."""
    return {g.name: g for g in _catalogue()}


def get_gpu(name: str | GPU) -> GPU:
    """Look a GPU up by name, case- and spacing-insensitive, with common aliases ("h100", "4090")."""
    if isinstance(name, GPU):
        return name
    gpus = load_gpus()
    wanted = _key(name)
    for g in gpus.values():
        if wanted in (_key(g.name), _key(g.display_name)):
            return g
    if wanted in ALIASES:
        return gpus[ALIASES[wanted]]
    raise InputError("unknown_gpu", name=name, choices=", ".join(gpus))


def ceil_div(a: float, b: float) -> int:
    """Whole units needed to hold a (GPUs are bought whole), tolerant of float noise like 2.0000000001."""
    return int(math.ceil(a / b - 1e-9))

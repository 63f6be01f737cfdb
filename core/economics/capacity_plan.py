"""Planning a day of customer traffic on the capacity model (core.economics.capacity): machines for
a p90 target at the busiest hour, the day's percentiles (every hour weighted by its traffic), the
latency-against-load curve with its knee, and traffic as this app's support log recorded it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from core.economics.capacity import Machine, Traffic, answer_offsets, latency, queue_state
from core.economics.messages import InputError

MAX_MACHINES = 100_000


def log_profile(rows: list[dict]) -> dict | None:
    """Traffic as this app's support log recorded it (rows with asked_at in epoch seconds, tier,
    latency_ms): questions per day over the days it covers (at least one), the tiers' shares and
    median times. None for an empty log."""
    rows = [r for r in rows if r.get("tier") in (1, 2, 3) and r.get("asked_at") is not None]
    if not rows:
        return None
    times = [float(r["asked_at"]) for r in rows]
    days = max(1.0, (max(times) - min(times)) / 86_400)
    tiers = [int(r["tier"]) for r in rows]

    def median_s(tier: int) -> float | None:
        ms = [float(r["latency_ms"]) for r in rows if r["tier"] == tier and r.get("latency_ms") is not None]
        return float(np.median(ms)) / 1000 if ms else None

    return {
        "questions": len(rows),
        "days": days,
        "questions_per_day": len(rows) / days,
        "tier1_share": tiers.count(1) / len(rows),
        "tier2_share": tiers.count(2) / len(rows),
        "tier3_share": tiers.count(3) / len(rows),
        "tier1_s": median_s(1),
        "tier2_s": median_s(2),
        "tier3_s": median_s(3),
    }


def _mixture_quantiles(qs, weights, offsets, p_wait, decay, atoms=()) -> list[float]:
    """Quantiles `qs` of a mixture: with weight w_i, offset_i + a wait with P(W > t) = p_i e^(-d_i t);
    `atoms`: (weight, time) point masses (curated answers, hand-overs). Bisection on the CDF, all
    quantiles at once."""
    qs = np.asarray(qs, dtype=float)
    w, off = np.asarray(weights, dtype=float), np.asarray(offsets, dtype=float)
    p, d = np.asarray(p_wait, dtype=float), np.asarray(decay, dtype=float)
    total = w.sum() + sum(a for a, _ in atoms)
    if total <= 0:
        return [0.0] * qs.size
    if np.any((w > 0) & ~np.isfinite(off)) or np.any((w > 0) & (p > 0) & (d <= 0)):
        return [math.inf] * qs.size
    off = np.where(w > 0, off, 0.0)

    def cdf(t: np.ndarray) -> np.ndarray:
        x = t[:, None] - off[None, :]
        tail = np.where(x >= 0, p * np.exp(-d * np.maximum(x, 0)), 1.0)
        return ((w * (1 - tail)).sum(axis=1) + sum(a * (t >= at) for a, at in atoms)) / total

    lo = np.zeros(qs.size)
    hi = np.full(qs.size, max([float(off.max(initial=0))] + [at for _, at in atoms]) + 1.0)
    while np.any(cdf(hi) < qs):
        hi = np.where(cdf(hi) < qs, hi * 2, hi)
        if hi.max() > 1e9:
            return [math.inf if h > 1e9 else math.nan for h in hi]
    for _ in range(32):  # hi / 2^32: well below a millisecond
        mid = (lo + hi) / 2
        enough = cdf(mid) >= qs
        lo, hi = np.where(enough, lo, mid), np.where(enough, mid, hi)
    return [float(h) for h in hi]


# ------------------------------------------------------------------------------- planning a day


@dataclass
class CapacityPlan:
    machine: dict
    machines: int  # machines for the target at the busiest hour (None-free: at least 1)
    target_p90_s: float
    peak_hour: int
    peak: dict  # Latency at the busiest hour, per machine
    hourly: list[dict] = field(default_factory=list)  # hour, arrivals_per_s (per machine), Latency fields
    day: dict = field(default_factory=dict)  # written answers over the day: first word / answer p50, p90
    all_tiers: dict = field(default_factory=dict)  # every question over the day: first word p50, p90
    capacity_per_machine_per_s: float = 0.0  # written answers per second with every slot busy: mu(c)
    questions_per_day: float = 0.0
    monthly_cost_usd: float | None = None
    cost_per_conversation_usd: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _day_quantiles(machine: Machine, traffic: Traffic, machines: int) -> tuple[dict, dict]:
    lam = traffic.written_per_second(machines)
    state = queue_state(lam, machine.service_rates(traffic.prompt_tokens, traffic.output_tokens), traffic.service_cv)
    first, whole = answer_offsets(machine, traffic, state)
    if not state["stable"].all():
        first = np.where(state["stable"], first, np.inf)
    args = (lam, first, state["p_wait"], state["decay"])
    f50, f90 = _mixture_quantiles((0.5, 0.9), *args)
    a50, a90 = _mixture_quantiles((0.5, 0.9), lam, whole, state["p_wait"], state["decay"])
    day = {"first_word_p50_s": f50, "first_word_p90_s": f90, "answer_p50_s": a50, "answer_p90_s": a90}
    # every question: curated answers and hand-overs as point masses, weighted like the written ones
    scale = lam.sum() / traffic.tier2_share if traffic.tier2_share > 0 else 1.0  # all questions per second
    atoms = ((traffic.tier1_share * scale, traffic.tier1_s), (traffic.tier3_share * scale, traffic.tier3_s))
    e50, e90 = _mixture_quantiles((0.5, 0.9), *args, atoms=atoms)
    everyone = {"first_word_p50_s": e50, "first_word_p90_s": e90}
    finite = {k: (v if math.isfinite(v) else None) for k, v in day.items()}  # inf: an hour past capacity
    return finite, {k: (v if math.isfinite(v) else None) for k, v in everyone.items()}


def machines_needed(machine: Machine, traffic: Traffic, target_p90_s: float) -> int:
    """The fewest machines (traffic split evenly) whose busiest hour keeps written answers' time to
    first word at p90 <= target; at least 1. Raises when even an idle machine is slower than the target."""
    machine.validate()
    traffic.validate()
    if target_p90_s is None or not math.isfinite(target_p90_s):
        raise InputError("not_number", what="target_p90")
    if target_p90_s <= 0:
        raise InputError("positive", what="target_p90")
    target = float(target_p90_s)
    mu = machine.service_rates(traffic.prompt_tokens, traffic.output_tokens)
    idle = traffic.overhead_s + float(machine.prefill_s(traffic.prompt_tokens, 1))
    if idle > target:
        raise InputError("target_too_low", idle=f"{idle:.1f}")
    peak = float(traffic.written_per_second().max())
    m = max(1, math.ceil(peak / mu[-1] * (1 + 1e-9)))  # the fewest that are stable at the peak
    while m <= MAX_MACHINES:
        if latency(machine, traffic, peak / m)[0].first_word_p90_s <= target:
            return m
        m = m + 1 if m < 64 else math.ceil(m * 1.05)
    raise InputError("too_many_machines", max=f"{MAX_MACHINES:,}")


def capacity_plan(
    machine: Machine, traffic: Traffic, target_p90_s: float = 10.0, machines: int | None = None
) -> CapacityPlan:
    """Machines for the target (or the given number), the busiest hour, every hour, the day's
    percentiles, and the serving cost: machines x $ per hour x 730 hours a month, per conversation
    (conversations per day x 30.4)."""
    m = machines_needed(machine, traffic, target_p90_s) if machines is None else int(machines)
    if m < 1:
        raise InputError("whole_at_least_1", what="machines")
    lam = traffic.written_per_second(m)
    rows = latency(machine, traffic, lam)
    hourly = [{"hour": h, **r.to_dict()} for h, r in enumerate(rows)]
    peak_hour = int(np.argmax(lam))
    day, everyone = _day_quantiles(machine, traffic, m)
    mu = machine.service_rates(traffic.prompt_tokens, traffic.output_tokens)
    monthly = m * machine.usd_per_hour * 730 if machine.usd_per_hour is not None else None
    conversations = traffic.conversations_per_day * 365 / 12
    return CapacityPlan(
        machine=machine.to_dict(),
        machines=m,
        target_p90_s=float(target_p90_s),
        peak_hour=peak_hour,
        peak=rows[peak_hour].to_dict(),
        hourly=hourly,
        day=day,
        all_tiers=everyone,
        capacity_per_machine_per_s=float(mu[-1]),
        questions_per_day=traffic.questions_per_day,
        monthly_cost_usd=monthly,
        cost_per_conversation_usd=monthly / conversations if monthly is not None and conversations > 0 else None,
    )


def knee(x, y) -> int:
    """Index of the knee of an increasing, convex curve (Kneedle, Satopaa et al. 2011): with both axes
    scaled to 0..1, the point farthest below the straight line from the first point to the last."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0
    xn, yn = (x - x[0]) / np.ptp(x), (y - y.min()) / np.ptp(y)
    return int(np.argmax(xn - yn))


def latency_curve(machine: Machine, traffic: Traffic, points: int = 40, top: float = 0.95) -> dict:
    """Written answers' time to first word (p50, p90) on one machine as load grows from 2% to `top`
    of its capacity mu(c); the knee of the p90 curve marked (its index, load and latency)."""
    mu = machine.validate().service_rates(traffic.prompt_tokens, traffic.output_tokens)[-1]
    share = np.linspace(0.02, top, points)
    rows = latency(machine, traffic, share * mu)
    p90 = [r.first_word_p90_s for r in rows]
    i = knee(share, p90)
    return {
        "utilisation": share.tolist(),
        "arrivals_per_hour": (share * mu * 3600).tolist(),
        "first_word_p50_s": [r.first_word_p50_s for r in rows],
        "first_word_p90_s": p90,
        "knee_index": i,
        "knee_utilisation": float(share[i]),
        "knee_arrivals_per_hour": float(share[i] * mu * 3600),
        "knee_p90_s": float(p90[i]),
    }

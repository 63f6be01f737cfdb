"""What the plan's result depends on: sensitivity (tornado) and Monte Carlo over ranges of inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.economics.business import Scenario, validate_business
from core.economics.messages import ENGLISH, InputError
from core.economics.pnl import first_month, pnl_arrays

# Inputs that move the P&L, with labels for charts. Shares (churn, %) stay within 0..1 when swung.
# The inputs the tornado and Monte Carlo move, with their English labels (core.economics.messages).
DRIVERS: dict[str, str] = {
    key.removeprefix("calc.driver."): text for key, text in ENGLISH.items() if key.startswith("calc.driver.")
}
SHARES = {
    "subscription.churn_monthly",
    "api.churn_monthly",
    "services.delivery_cost_pct",
    "resolution.churn_monthly",
    "resolution.resolution_rate",
}
BELOW_ONE = {"trend.price_decline_yearly", "trend.cost_decline_yearly"}  # a decline of 100% a year is no price
METRICS = ("break_even_month", "payback_month", "runway_months", "cash_at_end", "min_cash")
MONTH_METRICS = {"break_even_month", "payback_month", "runway_months"}


def _active_drivers(s: Scenario) -> list[str]:
    on = {
        "subscription": s.subscription.enabled,
        "api": s.api.enabled,
        "services": s.services.enabled,
        "resolution": s.resolution.enabled,
        "trend": True,
        "costs": True,
    }
    return [p for p in DRIVERS if on[p.split(".")[0]]]


def _metric(paths: dict[str, np.ndarray], metric: str, months: int) -> np.ndarray:
    """One number per path. Month metrics that do not happen within the plan get months + 1."""
    never = months + 1
    if metric == "break_even_month":
        return first_month(paths["net"] >= 0, never).astype(float)
    if metric == "payback_month":
        return first_month(paths["cumulative_net"] >= 0, never).astype(float)
    if metric == "runway_months":
        return (first_month(paths["cash"] < 0, never + 1) - 1).astype(float)
    if metric == "cash_at_end":
        return paths["cash"][:, -1]
    if metric == "min_cash":
        return paths["cash"].min(axis=1)
    raise InputError("unknown_metric", metric=metric, choices=", ".join(METRICS))


def _swung(path: str, value: float, factor: float) -> float:
    x = value * factor
    if path in BELOW_ONE:
        return min(max(x, 0.0), 0.99)
    return min(max(x, 0.0), 1.0) if path in SHARES else max(x, 0.0)


def tornado(scenario: Scenario, metric: str = "break_even_month", swing: float = 0.2, top: int = 8) -> pd.DataFrame:
    """Which inputs move the result most: each driver alone set to -swing and +swing of its value
    (e.g. 20% lower and higher; shares kept within 0-100%), everything else unchanged.

    Columns: driver, label, base_input, low_input, high_input, metric_low, metric_high, base_metric,
    spread (|high - low|), low_censored / high_censored (True: the event does not happen within the
    plan, and the value shown is months + 1). Sorted by spread, largest first; `top` rows.
    """
    if metric not in METRICS:
        raise InputError("unknown_metric", metric=metric, choices=", ".join(METRICS))
    if swing is None or not 0 < swing < 1:
        raise InputError("swing")
    validate_business(scenario)
    drivers = [d for d in _active_drivers(scenario) if scenario.get(d) != 0]
    months = scenario.months
    if not drivers:
        return pd.DataFrame(
            columns=[
                "driver",
                "label",
                "base_input",
                "low_input",
                "high_input",
                "metric_low",
                "metric_high",
                "base_metric",
                "spread",
                "low_censored",
                "high_censored",
            ]
        )
    # Row 0 is the base case; then low and high for each driver, all in one vectorised run.
    overrides = {}
    n = 1 + 2 * len(drivers)
    for i, d in enumerate(drivers):
        base = float(scenario.get(d))
        col = np.full(n, base)
        col[1 + 2 * i] = _swung(d, base, 1 - swing)
        col[2 + 2 * i] = _swung(d, base, 1 + swing)
        overrides[d] = col
    values = _metric(pnl_arrays(scenario, overrides), metric, months)
    censor = months + 1
    rows = []
    for i, d in enumerate(drivers):
        lo, hi = values[1 + 2 * i], values[2 + 2 * i]
        rows.append(
            {
                "driver": d,
                "label": DRIVERS[d],
                "base_input": float(scenario.get(d)),
                "low_input": overrides[d][1 + 2 * i],
                "high_input": overrides[d][2 + 2 * i],
                "metric_low": float(lo),
                "metric_high": float(hi),
                "base_metric": float(values[0]),
                "spread": float(abs(hi - lo)),
                "low_censored": bool(metric in MONTH_METRICS and lo >= censor),
                "high_censored": bool(metric in MONTH_METRICS and hi >= censor),
            }
        )
    df = pd.DataFrame(rows).sort_values("spread", ascending=False, kind="stable")
    return df.head(top).reset_index(drop=True)


def default_ranges(scenario: Scenario, swing: float = 0.2) -> dict[str, tuple[float, float]]:
    """+/- swing around each active, non-zero driver (shares kept within 0..1); starting cash excluded."""
    out = {}
    for d in _active_drivers(scenario):
        base = float(scenario.get(d))
        if base != 0 and d != "costs.starting_cash":
            out[d] = (_swung(d, base, 1 - swing), _swung(d, base, 1 + swing))
    return out


@dataclass
class MonteCarloResult:
    draws: int
    seed: int
    within_months: int
    months: int
    break_even_months: np.ndarray  # per draw; months + 1 = no break-even within the plan
    payback_months: np.ndarray  # per draw; months + 1 = not paid back within the plan
    cash_at_end: np.ndarray
    p10: int | None  # break-even month percentiles; None = later than the plan
    p50: int | None
    p90: int | None
    probability_within: float  # P(break-even in one of months 1..within_months); never-break-even draws never count
    probability_never: float  # P(no break-even within the plan)
    probability_cash_runs_out: float  # P(cash below zero in some month)
    payback_p50: int | None
    cash_at_end_p10: float
    cash_at_end_p50: float
    cash_at_end_p90: float
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    def summary(self) -> dict:
        """The scalar results (no arrays), JSON-serialisable."""
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, np.ndarray)}


def _quantile_month(values: np.ndarray, q: float, months: int) -> int | None:
    v = int(np.quantile(values, q, method="inverted_cdf"))  # an actual draw: no interpolation across "never"
    return v if v <= months else None


def monte_carlo(
    scenario: Scenario,
    ranges: dict[str, tuple[float, float]] | None = None,
    draws: int = 10_000,
    seed: int = 0,
    within_months: int = 24,
) -> MonteCarloResult:
    """Break-even under uncertainty: each draw picks every uncertain input from its range, runs the
    36-month P&L, and records the break-even month.

    Each input is drawn from a triangular distribution between its low and high value, peaking at
    the scenario's value (clipped into the range): values near your estimate are likelier than the
    extremes. Inputs are drawn independently. P10/P50/P90: 10% / 50% / 90% of draws break even by
    that month. Same seed, same inputs -> the same result.

    probability_within: the share of draws that break even in month within_months or earlier. N can
    be at most the plan's length: beyond it the plan cannot say, and a draw that never breaks even
    within the plan (recorded as month months + 1) never counts as breaking even.
    """
    validate_business(scenario)
    ranges = default_ranges(scenario) if ranges is None else ranges
    if draws is None or draws < 1 or int(draws) != draws:
        raise InputError("draws")
    months = scenario.months
    if within_months is None or not 1 <= within_months <= months or int(within_months) != within_months:
        raise InputError("within_months", months=months)
    rng = np.random.default_rng(seed)
    overrides = {}
    for path, bounds in ranges.items():
        if path not in DRIVERS:
            raise InputError("unknown_driver", path=path, choices=", ".join(DRIVERS))
        if len(bounds) != 2:
            raise InputError("range_order", driver=path)
        low, high = (float(x) for x in bounds)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise InputError("range_order", driver=path)
        if low < 0 or (path in SHARES and high > 1) or (path in BELOW_ONE and high >= 1):
            raise InputError("range_outside", driver=path)
        mode = min(max(float(scenario.get(path)), low), high)
        overrides[path] = rng.triangular(low, mode, high, draws) if high > low else np.full(draws, low)
    if not overrides:
        overrides = {"costs.team_monthly": np.full(draws, float(scenario.costs.team_monthly))}
    paths = pnl_arrays(scenario, overrides)
    be = _metric(paths, "break_even_month", months).astype(int)
    pb = _metric(paths, "payback_month", months).astype(int)
    cash_end = paths["cash"][:, -1]
    c10, c50, c90 = (float(x) for x in np.quantile(cash_end, [0.1, 0.5, 0.9]))
    return MonteCarloResult(
        draws=int(draws),
        seed=seed,
        within_months=int(within_months),
        months=months,
        break_even_months=be,
        payback_months=pb,
        cash_at_end=cash_end,
        p10=_quantile_month(be, 0.1, months),
        p50=_quantile_month(be, 0.5, months),
        p90=_quantile_month(be, 0.9, months),
        probability_within=float(((be <= within_months) & (be <= months)).mean()),
        probability_never=float((be > months).mean()),
        probability_cash_runs_out=float((paths["cash"] < 0).any(axis=1).mean()),
        payback_p50=_quantile_month(pb, 0.5, months),
        cash_at_end_p10=c10,
        cash_at_end_p50=c50,
        cash_at_end_p90=c90,
        ranges={k: (float(v[0]), float(v[1])) for k, v in ranges.items()},
    )


def scenario_monte_carlo(scenario: Scenario, draws: int | None = None) -> MonteCarloResult:
    """The Risk tab's simulation of a scenario, from its own uncertainty inputs: its ranges, else
    +/- its swing around each driver; "within N months" capped at the plan's length (a plan shortened
    after N was chosen asks about the whole plan)."""
    u = scenario.uncertainty
    ranges = (
        {k: (float(v[0]), float(v[1])) for k, v in u.ranges.items()} if u.ranges else default_ranges(scenario, u.swing)
    )
    within = min(int(u.within_months), int(scenario.months)) if u.within_months is not None else None
    return monte_carlo(scenario, ranges, u.draws if draws is None else draws, u.seed, within)

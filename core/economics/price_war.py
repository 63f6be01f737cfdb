"""Price war: a competitor cuts its price; we hold, match or undercut. Share, revenue and margin over time.

Share model (a two-player logit in log price, the "attraction" form of market-share models; Cooper &
Nakanishi 1988, "Market-Share Analysis"): our share's odds move with our price relative to theirs,

    s / (1 - s) = s0 / (1 - s0) x ((p_us / p_them) / (p_us0 / p_them0)) ^ (-elasticity)

so at today's prices we keep today's share s0, and if both sides move by the same % nothing changes.
With share s, a 1% cut in our price alone raises our volume by about elasticity x (1 - s) %.
The whole market can also grow as average prices fall: volume = market size x
(average price / today's average price) ^ (-market elasticity); 0 keeps the market size fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.economics.messages import InputError

RESPONSES = ("hold", "match", "undercut")


@dataclass
class CompetitorCut:
    """A rule for the competitor's price: start price, cut by cut_pct from `month` on; and, with
    decline_yearly, falling steadily as well: x (1 - decline)^((month - 1) / 12) (prices of equal
    capability fell ~10x a year, a decline of 0.9: a16z "LLMflation", Nov 2024)."""

    cut_pct: float = 0.5
    month: int = 6
    start_price: float | None = None  # None: the same as our starting price
    decline_yearly: float = 0.0

    def path(self, months: int, our_price: float) -> np.ndarray:
        if not 0 <= self.cut_pct < 1:
            raise InputError("cut_range")
        if self.month < 1 or int(self.month) != self.month:
            raise InputError("cut_month")
        if self.decline_yearly is None or not 0 <= self.decline_yearly < 1:
            raise InputError("decline_range", what="competitor_decline")
        start = our_price if self.start_price is None else self.start_price
        t = np.arange(1, months + 1)
        trend = (1 - self.decline_yearly) ** ((t - 1) / 12)
        return (np.where(t >= self.month, start * (1 - self.cut_pct), start) * trend).astype(float)


def _competitor_prices(competitor_path, months: int, our_price: float) -> tuple[np.ndarray, float]:
    """(competitor price per month, competitor's price before the war: the reference for today's share)."""
    if isinstance(competitor_path, dict):
        competitor_path = CompetitorCut(**competitor_path)
    if isinstance(competitor_path, CompetitorCut):
        prices = competitor_path.path(months, our_price)
        start = our_price if competitor_path.start_price is None else competitor_path.start_price
    else:
        given = np.asarray(list(competitor_path), dtype=float)
        if given.size == 0:
            raise InputError("no_competitor_prices")
        # Shorter than the plan: the last price holds.
        prices = np.concatenate([given, np.full(max(0, months - given.size), given[-1])])[:months]
        start = float(given[0])
    if not np.isfinite(prices).all() or (prices <= 0).any() or start <= 0:
        raise InputError("competitor_prices")
    return prices, float(start)


def simulate_price_war(
    our_price: float,
    competitor_path,
    elasticity: float = 2.0,
    market_size: float = 10_000.0,
    base_share: float = 0.2,
    unit_cost: float = 0.0,
    response: str = "match",
    months: int = 36,
    undercut_pct: float = 0.10,
    response_lag: int = 1,
    market_elasticity: float = 0.0,
    floor: float | None = None,
) -> pd.DataFrame:
    """One path of a price war, month by month.

    competitor_path: a list of the competitor's monthly prices (its first price is taken as the
    pre-war price; a short list holds its last price), or a CompetitorCut rule (or the same as a dict).

    Our price: hold = unchanged; match = the competitor's price `response_lag` months earlier;
    undercut = that price x (1 - undercut %). We never go above our starting price, nor below
    `floor` (default: our unit cost, i.e. we do not sell at a loss).
    Share from the model above; volume = market volume x share; revenue = volume x our price;
    margin = volume x (our price - unit cost).
    """
    if response not in RESPONSES:
        raise InputError("unknown_response", response=response, choices=", ".join(RESPONSES))
    for value, what in ((our_price, "our_price"), (market_size, "market_size")):
        if value is None or not math.isfinite(value) or value <= 0:
            raise InputError("positive", what=what)
    if not 0 < base_share < 1:
        raise InputError("base_share")
    if not (math.isfinite(elasticity) and math.isfinite(market_elasticity)) or elasticity < 0 or market_elasticity < 0:
        raise InputError("elasticity_sign")
    if not math.isfinite(unit_cost) or unit_cost < 0:
        raise InputError("negative", what="unit_cost")
    if not 0 <= undercut_pct < 1:
        raise InputError("undercut_range")
    if response_lag < 0 or int(response_lag) != response_lag:
        raise InputError("response_lag")
    if not 1 <= months <= 120:
        raise InputError("war_months", max=120)
    floor = unit_cost if floor is None else floor

    theirs, their_start = _competitor_prices(competitor_path, months, our_price)
    seen = theirs[np.maximum(np.arange(months) - int(response_lag), 0)]  # what we react to
    if response == "hold":
        ours = np.full(months, float(our_price))
    else:
        target = seen if response == "match" else seen * (1 - undercut_pct)
        ours = np.clip(target, min(floor, our_price), our_price)

    odds0 = base_share / (1 - base_share)
    odds = odds0 * ((ours / theirs) / (our_price / their_start)) ** (-elasticity)
    share = odds / (1 + odds)
    avg0 = base_share * our_price + (1 - base_share) * their_start
    avg = share * ours + (1 - share) * theirs
    market = market_size * (avg / avg0) ** (-market_elasticity)
    volume = market * share
    margin = volume * (ours - unit_cost)
    return pd.DataFrame(
        {
            "month": np.arange(1, months + 1),
            "our_price": ours,
            "competitor_price": theirs,
            "share": share,
            "market_volume": market,
            "volume": volume,
            "revenue": volume * ours,
            "margin": margin,
            "cumulative_margin": np.cumsum(margin),
        }
    )


def compare_responses(
    our_price: float,
    competitor_path,
    elasticity: float = 2.0,
    market_size: float = 10_000.0,
    base_share: float = 0.2,
    unit_cost: float = 0.0,
    months: int = 36,
    responses=RESPONSES,
    **kwargs,
) -> pd.DataFrame:
    """simulate_price_war for each response, stacked with a `response` column (long format for charts)."""
    frames = [
        simulate_price_war(
            our_price,
            competitor_path,
            elasticity,
            market_size,
            base_share,
            unit_cost,
            response=r,
            months=months,
            **kwargs,
        ).assign(response=r)
        for r in responses
    ]
    return pd.concat(frames, ignore_index=True)


def summarise_responses(paths: pd.DataFrame) -> pd.DataFrame:
    """One row per response: total revenue and margin over the plan, final price and share."""
    g = paths.groupby("response", sort=False)
    return pd.DataFrame(
        {
            "total_revenue": g["revenue"].sum(),
            "total_margin": g["margin"].sum(),
            "final_price": g["our_price"].last(),
            "final_share": g["share"].last(),
        }
    ).reset_index()

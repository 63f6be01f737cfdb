"""Market sizing, top-down from explicit assumptions: TAM -> SAM -> SOM."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd


@dataclass
class MarketSizing:
    tam_usd: float  # total addressable market, per year
    sam_usd: float  # serviceable: the part our product and channels can reach
    som_usd: float  # obtainable: the part we can realistically win in the next few years
    som_customers: float
    steps: list[dict] = field(default_factory=list)  # step, value_usd, customers, formula

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.steps)

    def to_dict(self) -> dict:
        return asdict(self)


def _money(x: float) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:,.2f}{unit}"
    return f"${x:,.0f}"


def market_sizing(companies: float, spend_per_company_usd: float, serviceable_pct: float,
                  obtainable_pct: float) -> MarketSizing:
    """TAM = number of potential customer companies x what each spends a year on this kind of product.
    SAM = TAM x serviceable % (the segments, regions and languages we can actually sell to).
    SOM = SAM x obtainable % (the share we can win: competition, sales capacity).
    Each step's formula is returned with the numbers filled in."""
    for value, what in ((companies, "The number of companies"), (spend_per_company_usd, "Spend per company")):
        if value is None or not math.isfinite(value) or value < 0:
            raise ValueError(f"{what} cannot be negative")
    for value, what in ((serviceable_pct, "The serviceable share"), (obtainable_pct, "The obtainable share")):
        if value is None or not 0 <= value <= 1:
            raise ValueError(f"{what} must be between 0 and 1 (0% to 100%)")
    tam = companies * spend_per_company_usd
    sam = tam * serviceable_pct
    som = sam * obtainable_pct
    reach = companies * serviceable_pct
    won = reach * obtainable_pct
    steps = [
        {"step": "TAM", "value_usd": tam, "customers": companies,
         "formula": f"TAM = {companies:,.0f} companies x {_money(spend_per_company_usd)} a year = {_money(tam)}"},
        {"step": "SAM", "value_usd": sam, "customers": reach,
         "formula": f"SAM = TAM {_money(tam)} x {serviceable_pct:.1%} serviceable = {_money(sam)}"},
        {"step": "SOM", "value_usd": som, "customers": won,
         "formula": f"SOM = SAM {_money(sam)} x {obtainable_pct:.1%} obtainable = {_money(som)}"
                    f" (about {won:,.0f} customers)"},
    ]
    return MarketSizing(tam_usd=tam, sam_usd=sam, som_usd=som, som_customers=won, steps=steps)

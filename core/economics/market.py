"""Market sizing, top-down from explicit assumptions: TAM -> SAM -> SOM."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from core.economics.messages import InputError, Message


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


def market_sizing(
    companies: float, spend_per_company_usd: float, serviceable_pct: float, obtainable_pct: float
) -> MarketSizing:
    """TAM = number of potential customer companies x what each spends a year on this kind of product.
    SAM = TAM x serviceable % (the segments, regions and languages we can actually sell to).
    SOM = SAM x obtainable % (the share we can win: competition, sales capacity).
    Each step's formula is returned with the numbers filled in (a Message: English, with a code to translate)."""
    for value, what in ((companies, "companies"), (spend_per_company_usd, "spend")):
        if value is None or not math.isfinite(value) or value < 0:
            raise InputError("negative", what=what)
    for value, what in ((serviceable_pct, "serviceable"), (obtainable_pct, "obtainable")):
        if value is None or not math.isfinite(value) or not 0 <= value <= 1:
            raise InputError("share_0_1", what=what)
    tam = companies * spend_per_company_usd
    sam = tam * serviceable_pct
    som = sam * obtainable_pct
    reach = companies * serviceable_pct
    won = reach * obtainable_pct
    steps = [
        {
            "step": "TAM",
            "value_usd": tam,
            "customers": companies,
            "formula": Message(
                "tam_formula", companies=f"{companies:,.0f}", spend=_money(spend_per_company_usd), tam=_money(tam)
            ),
        },
        {
            "step": "SAM",
            "value_usd": sam,
            "customers": reach,
            "formula": Message("sam_formula", tam=_money(tam), pct=f"{serviceable_pct:.1%}", sam=_money(sam)),
        },
        {
            "step": "SOM",
            "value_usd": som,
            "customers": won,
            "formula": Message(
                "som_formula", sam=_money(sam), pct=f"{obtainable_pct:.1%}", som=_money(som), customers=f"{won:,.0f}"
            ),
        },
    ]
    return MarketSizing(tam_usd=tam, sam_usd=sam, som_usd=som, som_customers=won, steps=steps)

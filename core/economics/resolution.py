"""What one resolved customer conversation costs, wrong answers and hand-overs included, next to
paying a per-resolution service or an API's token prices.

Per conversation: serving (the Capacity tab's machines x $ per hour / conversations, or an API's
token prices) + hand-over rate x a person's cost per conversation + wrong-answer rate x the cost of
a wrong answer. Per resolved conversation: that / the share of conversations set right. The rates
are the support evaluation's (`python -m core support eval --json`; README: right 0.833, handed over
0.083, wrong 0.083 on the sample company's 60 customer questions): one evaluated question is taken
as one conversation's outcome. A person's cost and a wrong answer's cost are illustrative defaults.

A per-resolution service is paid per resolution it counts (Intercom Fin counts a conversation the
customer leaves without asking for more: a wrong answer the customer believes is billed too, unless
bill_wrong_as_resolved is off) or per conversation (Salesforce Agentforce); its hand-overs and wrong
answers are costed like ours, at the same rates unless given.

Prices fall: a16z's "LLMflation" (G. Appenzeller, 12 Nov 2024) measured the price of an LLM of
equal capability (MMLU >= 42) falling ~10x a year (a decline of 0.9 a year) since Nov 2021.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from core.economics.hardware import DATA_DIR
from core.economics.messages import InputError
from core.economics.prices import PRICE_DATE, load_api_prices

RESOLUTION_PRICES_CSV = DATA_DIR / "resolution_prices.csv"
LLMFLATION_YEARLY_DECLINE = 0.9  # ~10x cheaper a year for equal capability
LLMFLATION_SOURCE = (
    "a16z, G. Appenzeller, “Welcome to LLMflation – LLM inference cost is going down fast”, 12 Nov 2024 "
    "(a16z.com/llmflation-llm-inference-cost): ~10x a year for an LLM of equal capability"
)
# The inputs of cost_per_resolved that the tornado and the Monte Carlo move.
DRIVERS = (
    "serving_per_conversation",
    "right_rate",
    "handover_rate",
    "wrong_rate",
    "person_cost",
    "wrong_cost",
)
RATES = {"right_rate", "handover_rate", "wrong_rate"}


@dataclass(frozen=True)
class Outcomes:
    """Shares of conversations: set right by the assistant, handed over to a person, answered wrongly."""

    right_rate: float = 0.833
    handover_rate: float = 0.083
    wrong_rate: float = 0.083

    def validate(self) -> Outcomes:
        for value, what in (
            (self.right_rate, "right_rate"),
            (self.handover_rate, "handover_rate"),
            (self.wrong_rate, "wrong_rate"),
        ):
            if value is None or not math.isfinite(value) or not 0 <= value <= 1:
                raise InputError("share_0_1", what=what)
        if self.right_rate + self.handover_rate + self.wrong_rate > 1 + 0.01:
            raise InputError("outcome_rates")
        if self.right_rate <= 0:
            raise InputError("positive", what="right_rate")
        return self


def _cost(value, what: str) -> float:
    if value is None or not math.isfinite(value):
        raise InputError("not_number", what=what)
    if value < 0:
        raise InputError("negative", what=what)
    return float(value)


@dataclass
class ResolvedCost:
    serving: float  # $ per conversation
    handover: float  # hand-over rate x a person's cost
    wrong: float  # wrong rate x a wrong answer's cost
    per_conversation: float
    per_resolved: float  # per conversation set right
    right_rate: float

    def to_dict(self) -> dict:
        return asdict(self)


def cost_per_resolved(
    serving_per_conversation: float, outcomes: Outcomes, person_cost: float, wrong_cost: float
) -> ResolvedCost:
    """Cost per conversation = serving + hand-over rate x person + wrong rate x wrong answer;
    per resolved conversation = that / right rate."""
    outcomes.validate()
    serving = _cost(serving_per_conversation, "conversation_serving_cost")
    handover = outcomes.handover_rate * _cost(person_cost, "person_cost")
    wrong = outcomes.wrong_rate * _cost(wrong_cost, "wrong_cost")
    total = serving + handover + wrong
    return ResolvedCost(serving, handover, wrong, total, total / outcomes.right_rate, outcomes.right_rate)


@lru_cache(maxsize=1)
def _resolution_prices() -> pd.DataFrame:
    return pd.read_csv(RESOLUTION_PRICES_CSV)


def load_resolution_prices() -> pd.DataFrame:
    """Per-resolution services: service, usd, billed_per (resolution or conversation),
    bills_assumed_resolutions, pricing_page, source, source_date (the list price's date), note."""
    return _resolution_prices().copy()


@lru_cache(maxsize=1)
def _price_rows() -> tuple[tuple[dict, ...], tuple[dict, ...]]:
    """(per-resolution services, API models) as plain rows: read once, compared on every change."""
    api = load_api_prices()[["model", "input_usd_per_1m", "output_usd_per_1m", "source"]]
    return tuple(_resolution_prices().to_dict("records")), tuple(api.to_dict("records"))


def service_billed_share(billed_per: str, outcomes: Outcomes, bill_wrong_as_resolved: bool = True) -> float:
    """Billed units per conversation: 1 per conversation, or the resolutions counted (right, plus
    wrong answers the customer accepted when those count as resolutions)."""
    if billed_per == "conversation":
        return 1.0
    return outcomes.right_rate + (outcomes.wrong_rate if bill_wrong_as_resolved else 0.0)


def compare_resolution(
    serving_per_conversation: float | None,
    outcomes: Outcomes,
    person_cost: float,
    wrong_cost: float,
    written_per_conversation: float,
    prompt_tokens: float,
    output_tokens: float,
    bill_wrong_as_resolved: bool = True,
    api_models: int = 5,
) -> pd.DataFrame:
    """One row per way of answering customers, cheapest per resolved conversation first: self-hosted
    (serving_per_conversation; left out when None), each per-resolution service at its list price,
    and the `api_models` cheapest API models at their token prices (written answers per conversation
    x (prompt tokens x input price + output tokens x output price) / 1M). Hand-overs and wrong
    answers are costed the same for all. Columns: option, kind (self, service, api), ai_cost,
    handover, wrong, per_conversation, per_resolved, source, source_date."""
    outcomes.validate()
    extra = cost_per_resolved(0.0, outcomes, person_cost, wrong_cost)
    rows: list[dict] = []

    def add(option: str, kind: str, ai_cost: float, source: str, date: str) -> None:
        total = ai_cost + extra.handover + extra.wrong
        rows.append(
            {
                "option": option,
                "kind": kind,
                "ai_cost": ai_cost,
                "handover": extra.handover,
                "wrong": extra.wrong,
                "per_conversation": total,
                "per_resolved": total / outcomes.right_rate,
                "source": source,
                "source_date": date,
            }
        )

    if serving_per_conversation is not None:
        add("Self-hosted", "self", _cost(serving_per_conversation, "conversation_serving_cost"), "Capacity tab", "")
    services, models = _price_rows()
    for r in services:
        billed = service_billed_share(r["billed_per"], outcomes, bill_wrong_as_resolved)
        add(f"{r['service']} (${r['usd']:.2f} / {r['billed_per']})", "service", r["usd"] * billed, r["source"],
            r["source_date"])  # fmt: skip
    written = _cost(written_per_conversation, "written_per_conversation")
    per_model = [
        ((prompt_tokens * m["input_usd_per_1m"] + output_tokens * m["output_usd_per_1m"]) / 1e6 * written, m)
        for m in models
    ]
    for cost, m in sorted(per_model, key=lambda x: x[0])[:api_models]:
        add(f"{m['model']} API", "api", float(cost), m["source"], PRICE_DATE)
    rows.sort(key=lambda r: float(r["per_resolved"]))
    return pd.DataFrame(rows)


def declined(price: float, yearly_decline: float, months: float) -> float:
    """A price after `months` of a steady yearly decline: price x (1 - decline)^(months / 12)."""
    if yearly_decline is None or not math.isfinite(yearly_decline) or not 0 <= yearly_decline < 1:
        raise InputError("decline_range", what="price_decline")
    return price * (1 - yearly_decline) ** (months / 12)


# ---------------------------------------------------------------------- what the result depends on


def _vector(base: dict, overrides: dict[str, np.ndarray]) -> np.ndarray:
    v = {k: np.asarray(overrides.get(k, base[k]), dtype=float) for k in DRIVERS}
    total = v["serving_per_conversation"] + v["handover_rate"] * v["person_cost"] + v["wrong_rate"] * v["wrong_cost"]
    return total / np.maximum(v["right_rate"], 1e-9)


def _base(serving: float, outcomes: Outcomes, person_cost: float, wrong_cost: float) -> dict:
    cost_per_resolved(serving, outcomes, person_cost, wrong_cost)  # validates
    return {
        "serving_per_conversation": float(serving),
        "right_rate": outcomes.right_rate,
        "handover_rate": outcomes.handover_rate,
        "wrong_rate": outcomes.wrong_rate,
        "person_cost": float(person_cost),
        "wrong_cost": float(wrong_cost),
    }


def _swing(driver: str, value: float, factor: float) -> float:
    x = value * factor
    return min(max(x, 1e-6 if driver == "right_rate" else 0.0), 1.0) if driver in RATES else max(x, 0.0)


def resolution_tornado(
    serving: float, outcomes: Outcomes, person_cost: float, wrong_cost: float, swing: float = 0.2
) -> pd.DataFrame:
    """Cost per resolved conversation with each driver alone at -swing and +swing (rates kept in
    0..1). Columns: driver, base_input, low_input, high_input, low, high, base, spread; widest first."""
    if swing is None or not 0 < swing < 1:
        raise InputError("swing")
    base = _base(serving, outcomes, person_cost, wrong_cost)
    rows: list[dict] = []
    for d in DRIVERS:
        lo_in, hi_in = _swing(d, base[d], 1 - swing), _swing(d, base[d], 1 + swing)
        lo, hi = (float(_vector(base, {d: np.array(x)})) for x in (lo_in, hi_in))
        rows.append(
            {
                "driver": d,
                "base_input": base[d],
                "low_input": lo_in,
                "high_input": hi_in,
                "low": lo,
                "high": hi,
                "base": float(_vector(base, {})),
                "spread": abs(hi - lo),
            }
        )
    return pd.DataFrame(rows).sort_values("spread", ascending=False, kind="stable").reset_index(drop=True)


def resolution_monte_carlo(
    serving: float,
    outcomes: Outcomes,
    person_cost: float,
    wrong_cost: float,
    swing: float = 0.2,
    draws: int = 10_000,
    seed: int = 0,
    compare_with: float | None = None,
) -> dict:
    """Cost per resolved conversation with every driver drawn at once, each from a triangular
    distribution over +/- swing around its value (rates kept in 0..1). Returns p10, p50, p90, mean,
    and p_cheaper: the share of draws below `compare_with` (e.g. a service's cost per resolved
    conversation), None without it."""
    if swing is None or not 0 < swing < 1:
        raise InputError("swing")
    if draws is None or draws < 1 or int(draws) != draws:
        raise InputError("draws")
    base = _base(serving, outcomes, person_cost, wrong_cost)
    rng = np.random.default_rng(seed)
    drawn = {}
    for d in DRIVERS:
        lo, hi = _swing(d, base[d], 1 - swing), _swing(d, base[d], 1 + swing)
        drawn[d] = rng.triangular(lo, min(max(base[d], lo), hi), hi, int(draws)) if hi > lo else np.full(draws, lo)
    values = _vector(base, drawn)
    p10, p50, p90 = (float(x) for x in np.quantile(values, [0.1, 0.5, 0.9]))
    return {
        "draws": int(draws),
        "seed": seed,
        "p10": p10,
        "p50": p50,
        "p90": p90,
        "mean": float(values.mean()),
        "p_cheaper": float((values < compare_with).mean()) if compare_with is not None else None,
    }

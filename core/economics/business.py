"""The calculator's inputs and their validation: the business models (API pricing, subscriptions,
services, per-resolution), costs, and the `Scenario`: every input of every calculator tab in one
JSON-serialisable object. The monthly P&L computed from them is in pnl.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import typing
from dataclasses import dataclass, field

from core.economics.messages import InputError
from core.economics.training import DEFAULT_MFU
from core.economics.unit_economics import DEFAULT_TARGET_UTILISATION, Usage

SCENARIO_VERSION = 1
MAX_MONTHS = 120


# ---------------------------------------------------------------------------------------------- inputs


@dataclass
class ApiPricing:
    """Selling tokens: customers pay per 1M tokens they use."""

    enabled: bool = True
    price_per_million_tokens: float = 2.0  # blended $ charged per 1M tokens (input and output together)
    customers_start: float = 5.0
    customer_growth_monthly: float = 0.10  # new customers each month, as a share of last month's
    churn_monthly: float = 0.02  # share of customers lost each month
    tokens_per_customer_month: float = 300e6
    cac_per_customer: float = 3000.0  # sales and marketing spend to win one customer
    serving_cost_per_million_tokens: float = 0.40  # our cost: see the serving tab's $ per 1M tokens


@dataclass
class Subscription:
    """Selling seats: a monthly price per user."""

    enabled: bool = True
    seats_start: float = 500.0
    price_per_seat_month: float = 30.0
    growth_monthly: float = 0.12  # new seats each month, as a share of last month's seats
    churn_monthly: float = 0.03
    cac_per_seat: float = 90.0
    serving_cost_per_seat_month: float = 3.0  # see the unit-economics tab's serving cost per user


@dataclass
class Services:
    """Data and enterprise services: contracts delivered by people, billed over the quarter."""

    enabled: bool = True
    contracts_per_quarter: float = 1.0
    contract_value: float = 45_000.0
    delivery_cost_pct: float = 0.55  # share of contract value spent delivering it
    growth_quarterly: float = 0.10  # growth in contracts per quarter


@dataclass
class ResolutionPricing:
    """Selling resolved conversations (as Intercom Fin does): customer companies pay per
    conversation the assistant resolves; hand-overs go to their own people, unbilled."""

    enabled: bool = False
    price_per_resolution: float = 0.99  # Intercom Fin's list price (core.economics.resolution)
    customers_start: float = 10.0
    customer_growth_monthly: float = 0.10
    churn_monthly: float = 0.02
    conversations_per_customer_month: float = 2000.0
    resolution_rate: float = 0.833  # billed share of conversations: the support evaluation's "right"
    serving_cost_per_conversation: float = 0.02  # our cost: see the Capacity tab
    cac_per_customer: float = 2000.0


@dataclass
class PriceTrend:
    """Usage prices and serving costs falling over time (a16z "LLMflation": ~10x a year for equal
    capability, i.e. a decline of 0.9 a year; see core.economics.resolution)."""

    price_decline_yearly: float = 0.0  # the API price per 1M tokens and the price per resolution
    cost_decline_yearly: float = 0.0  # serving costs: per seat, per 1M tokens, per conversation


@dataclass
class CommonCosts:
    team_monthly: float = 60_000.0  # salaries and on-costs
    team_growth_monthly: float = 0.01
    other_fixed_monthly: float = 10_000.0  # office, tools, base infrastructure
    training_one_off: float = 40_000.0  # spent in month 1 (see the training tab)
    starting_cash: float = 1_500_000.0


@dataclass
class TrainingInputs:
    method: str = "lora"  # "pretrain", "full", "lora" or "qlora"
    params: float = 7e9
    tokens: float = 2e9  # pre-training tokens, or fine-tuning dataset tokens x epochs
    gpu: str = "H100-SXM"
    gpus: int = 8
    mfu: float = DEFAULT_MFU
    lora_fraction: float = 0.01
    usd_per_gpu_hour: float | None = None  # None: the catalogue's on-demand price
    owned: bool = False
    purchase_usd_per_gpu: float | None = None
    amortisation_years: float = 4.0
    pue: float = 1.2
    usd_per_kwh: float = 0.10
    owned_utilisation: float = 0.70


@dataclass
class ServingInputs:
    params: float = 7e9
    total_params: float | None = None  # mixture-of-experts: all parameters (params = active ones)
    gpu: str = "L40S"
    precision: str = "bf16"
    kv_precision: str = "bf16"
    batch: int = 16
    context: int = 4096
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    usd_per_gpu_hour: float | None = None
    target_utilisation: float = DEFAULT_TARGET_UTILISATION
    curve_max_users: float = 100_000.0


@dataclass
class CapacityInputs:
    """The Capacity tab: customer traffic, the answer tiers, and the machine that writes answers."""

    conversations_per_day: float = 500.0
    questions_per_conversation: float = 1.5
    daily_curve: str = "office"  # core.economics.capacity.DAILY_CURVES
    tier1_share: float = 0.5  # curated FAQ answers (illustrative split; tier 3 from the evaluation)
    tier2_share: float = 0.417  # written by the model; the rest (0.083, the evaluation's) handed over
    prompt_tokens: float = 750.0  # a written answer's prompt: question + sources
    output_tokens: float = 110.0
    tier1_s: float = 0.51  # README: a curated answer's median with the relevance check
    tier3_s: float = 3.7  # README: a hand-over's median
    overhead_s: float = 1.5  # a written answer before its prompt is read (retrieval, relevance check)
    service_cv: float = 0.5
    machine: str = "this"  # "this" (speeds below, as measured) or a GPU from the catalogue
    prefill_tok_s: float = 100.0
    decode_tok_s: float = 15.0
    slots: int = 2
    slot_scaling: float = 0.72
    usd_per_machine_hour: float | None = 0.10  # this machine: illustrative (a 2-vCPU VM); GPUs: catalogue
    target_p90_s: float = 15.0  # written answers' time to first word, p90, at the busiest hour


@dataclass
class SupportInputs:
    """What one conversation costs besides serving: the support evaluation's outcome rates
    (README: right 0.833, handed over 0.083, wrong 0.083) and what a hand-over and a wrong answer cost."""

    right_rate: float = 0.833
    handover_rate: float = 0.083
    wrong_rate: float = 0.083
    person_cost_per_conversation: float = 5.0  # illustrative: ~$25/h loaded, 5 conversations an hour
    wrong_answer_cost: float = 10.0  # illustrative: a refund, a second contact, goodwill
    bill_wrong_as_resolved: bool = True  # per-resolution services bill a wrong answer the customer accepts


@dataclass
class PriceWarInputs:
    our_price: float = 2.0  # $ per unit (e.g. per 1M tokens)
    competitor_start: float | None = None  # None: same as ours
    cut_pct: float = 0.5  # the competitor cuts its price by this share ...
    cut_month: int = 6  # ... in this month
    elasticity: float = 2.0  # share sensitivity to relative price (see price_war)
    market_elasticity: float = 0.0  # total demand sensitivity to the market price
    market_size: float = 10_000.0  # units per month at today's prices
    base_share: float = 0.2
    unit_cost: float = 0.4
    response: str = "match"
    undercut_pct: float = 0.10
    response_lag: int = 1
    decline_yearly: float = 0.0  # the competitor's price also falls this share a year (LLMflation: 0.9)
    unit: str = "tokens"  # what a price is for: "tokens" (1M) or "resolution"


@dataclass
class MarketInputs:
    companies: float = 200_000.0
    spend_per_company_usd: float = 12_000.0  # per year
    serviceable_pct: float = 0.25
    obtainable_pct: float = 0.02


@dataclass
class UncertaintyInputs:
    ranges: dict[str, list[float]] = field(
        default_factory=dict
    )  # {"subscription.churn_monthly": [0.02, 0.06]}; empty: +/- swing
    swing: float = 0.2
    draws: int = 10_000
    seed: int = 0
    within_months: int = 24


@dataclass
class Scenario:
    """Everything the calculator page needs, saved and loaded as one JSON object (to_dict / from_dict).

    The business defaults describe an illustrative seed-stage company (it breaks even in month 25),
    not a benchmark: replace them with your own numbers. GPU prices and specs default to the catalogue.
    """

    name: str = "Base case"
    version: int = SCENARIO_VERSION
    months: int = 36
    training: TrainingInputs = field(default_factory=TrainingInputs)
    serving: ServingInputs = field(default_factory=ServingInputs)
    usage: Usage = field(default_factory=Usage)
    api: ApiPricing = field(default_factory=ApiPricing)
    subscription: Subscription = field(default_factory=Subscription)
    services: Services = field(default_factory=Services)
    resolution: ResolutionPricing = field(default_factory=ResolutionPricing)
    trend: PriceTrend = field(default_factory=PriceTrend)
    costs: CommonCosts = field(default_factory=CommonCosts)
    price_war: PriceWarInputs = field(default_factory=PriceWarInputs)
    market: MarketInputs = field(default_factory=MarketInputs)
    uncertainty: UncertaintyInputs = field(default_factory=UncertaintyInputs)
    capacity: CapacityInputs = field(default_factory=CapacityInputs)
    support: SupportInputs = field(default_factory=SupportInputs)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["version"] = SCENARIO_VERSION
        return d

    @classmethod
    def from_dict(cls, data: dict | None) -> Scenario:
        """Build from a saved dict: missing keys take defaults, unknown keys are ignored (so scenarios
        saved by older or newer versions still load); values that are not numbers where numbers are
        expected raise ValueError naming the field."""
        return _from_dict(cls, data or {}, "")

    def get(self, path: str):
        """A value by dotted path, e.g. "subscription.churn_monthly"."""
        obj = self
        for part in path.split("."):
            if not dataclasses.is_dataclass(obj) or not hasattr(obj, part):
                raise InputError("unknown_input", path=path)
            obj = getattr(obj, part)
        return obj

    def replace(self, path: str, value) -> Scenario:
        """A copy with one input changed (dotted path)."""
        self.get(path)
        new = copy.deepcopy(self)
        *parents, last = path.split(".")
        obj = new
        for part in parents:
            obj = getattr(obj, part)
        setattr(obj, last, value)
        return new


def _number(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError("saved_not_number", where=where, value=value) from None
    if not math.isfinite(number):
        raise InputError("saved_not_number", where=where, value=value)
    return number


def _from_dict(cls, data: dict, prefix: str):
    if not isinstance(data, dict):
        raise InputError("saved_not_object", where=prefix.rstrip(".") or "scenario")
    default, hints, kwargs = cls(), typing.get_type_hints(cls), {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        base, value, where = getattr(default, f.name), data[f.name], prefix + f.name
        kinds = set(typing.get_args(hints[f.name])) or {hints[f.name]}
        if dataclasses.is_dataclass(base):
            kwargs[f.name] = _from_dict(type(base), value, where + ".")
        elif value is None:
            kwargs[f.name] = None if type(None) in kinds else base
        elif bool in kinds:
            kwargs[f.name] = bool(value)
        elif int in kinds:
            number = _number(value, where)
            if not number.is_integer():
                raise InputError("saved_not_whole", where=where, value=value)
            kwargs[f.name] = int(number)
        elif float in kinds:
            kwargs[f.name] = _number(value, where)
        elif isinstance(base, dict):
            if not isinstance(value, dict):
                raise InputError("saved_not_object", where=where)
            kwargs[f.name] = {str(k): [_number(x, f"{where}.{k}") for x in v] for k, v in value.items()}
        else:
            kwargs[f.name] = str(value)
    obj = cls(**kwargs)
    if cls is Scenario:
        obj.version = SCENARIO_VERSION
    return obj


# ------------------------------------------------------------------------------------------ validation


def check_nonneg(value, what: str) -> None:
    """`what` is a field key (core.i18n.calc "calc.field.<what>"): the message names it in any language."""
    if value is None or not math.isfinite(value):
        raise InputError("not_number", what=what)
    if value < 0:
        raise InputError("negative", what=what)


def check_share(value, what: str) -> None:
    if value is None or not math.isfinite(value) or not 0 <= value <= 1:
        raise InputError("share_0_1", what=what)


def validate_business(s: Scenario) -> None:
    """Raise ValueError (an InputError) with a plain sentence for inputs no business can have."""
    if not 1 <= s.months <= MAX_MONTHS or int(s.months) != s.months:
        raise InputError("plan_months", max=MAX_MONTHS)
    a, b, c, k = s.api, s.subscription, s.services, s.costs
    for v, w in (
        (a.price_per_million_tokens, "api_price"),
        (a.customers_start, "api_customers"),
        (a.customer_growth_monthly, "api_growth"),
        (a.tokens_per_customer_month, "tokens_per_customer"),
        (a.cac_per_customer, "api_cac"),
        (a.serving_cost_per_million_tokens, "api_serving_cost"),
        (b.seats_start, "seats"),
        (b.price_per_seat_month, "seat_price"),
        (b.growth_monthly, "seat_growth"),
        (b.cac_per_seat, "seat_cac"),
        (b.serving_cost_per_seat_month, "seat_serving_cost"),
        (c.contracts_per_quarter, "contracts"),
        (c.contract_value, "contract_value"),
        (c.growth_quarterly, "contract_growth"),
        (k.team_monthly, "team"),
        (k.team_growth_monthly, "team_growth"),
        (k.other_fixed_monthly, "other_fixed"),
        (k.training_one_off, "training_cost"),
        (k.starting_cash, "starting_cash"),
    ):
        check_nonneg(v, w)
    check_share(a.churn_monthly, "api_churn")
    check_share(b.churn_monthly, "seat_churn")
    check_share(c.delivery_cost_pct, "delivery")
    r = s.resolution
    for v, w in (
        (r.price_per_resolution, "resolution_price"),
        (r.customers_start, "resolution_customers"),
        (r.customer_growth_monthly, "resolution_growth"),
        (r.conversations_per_customer_month, "conversations_per_customer"),
        (r.serving_cost_per_conversation, "conversation_serving_cost"),
        (r.cac_per_customer, "resolution_cac"),
    ):
        check_nonneg(v, w)
    check_share(r.churn_monthly, "resolution_churn")
    check_share(r.resolution_rate, "resolution_rate")
    for v, w in ((s.trend.price_decline_yearly, "price_decline"), (s.trend.cost_decline_yearly, "cost_decline")):
        if v is None or not math.isfinite(v) or not 0 <= v < 1:
            raise InputError("decline_range", what=w)

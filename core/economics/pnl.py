"""The monthly P&L of a `Scenario`: month by month (monthly_pnl) and for many variants at once
(pnl_arrays, for Monte Carlo and the tornado); break-even, payback, runway and per-seat SaaS metrics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.economics.business import MAX_MONTHS, Scenario, Subscription, check_nonneg, check_share, validate_business
from core.economics.messages import InputError

# The P&L's columns in order, each with what it measures: "count" (seats, customers, resolutions),
# "money" ($ in the month, or cash), "share" (the gross margin), "contracts" (a rate per quarter) and
# the "month" itself; the calculator's table formats each column by it.
PNL_UNITS = {
    "month": "month",
    "seats": "count",
    "new_seats": "count",
    "api_customers": "count",
    "new_api_customers": "count",
    "contracts_per_quarter": "contracts",
    "resolution_customers": "count",
    "new_resolution_customers": "count",
    "resolutions": "count",
    "revenue_subscription": "money",
    "revenue_api": "money",
    "revenue_services": "money",
    "revenue_resolution": "money",
    "revenue": "money",
    "serving_cost": "money",
    "delivery_cost": "money",
    "gross_profit": "money",
    "gross_margin": "share",
    "team": "money",
    "other_fixed": "money",
    "acquisition": "money",
    "training": "money",
    "opex": "money",
    "net": "money",
    "cumulative_net": "money",
    "cash": "money",
}
PNL_COLUMNS = list(PNL_UNITS)


def monthly_pnl(inputs: Scenario, months: int | None = None) -> pd.DataFrame:
    """Month-by-month profit and loss and cash.

    Seats (and API customers, per-resolution customers): month 1 starts with the starting number,
    all newly acquired; after that, new = last month x growth, and next = last month x (1 - churn) + new.
    Revenue: seats x price; API customers x tokens per customer / 1M x price per 1M; per-resolution
    customers x conversations x resolution rate x price per resolution; services: contracts per
    quarter (growing each quarter) x contract value / 3 each month. Usage prices (per 1M tokens,
    per resolution) fall by the trend's yearly decline: x (1 - decline)^((month - 1) / 12).
    Cost of revenue: serving (seats x serving cost per seat; API tokens x our cost per 1M;
    conversations x our cost per conversation; all x (1 - cost decline)^((month - 1) / 12)) and
    services delivery (revenue x delivery %). Gross profit = revenue - cost of revenue.
    Operating costs: team (growing monthly), other fixed, acquisition (new seats and customers x
    their CAC), and the training cost in month 1. Net = gross profit - operating costs.
    Cash = starting cash + the sum of net so far.
    """
    s = inputs
    validate_business(s)
    months = s.months if months is None else months
    if not 1 <= months <= MAX_MONTHS:
        raise InputError("plan_months", max=MAX_MONTHS)
    state = {"seats": 0.0, "customers": 0.0, "res_customers": 0.0, "cumulative": 0.0}
    return pd.DataFrame([_month(s, t, state) for t in range(1, months + 1)], columns=PNL_COLUMNS)


def _grow(enabled: bool, start: float, growth: float, churn: float, t: int, level: float) -> tuple[float, float]:
    """(new, level) of a cohort in month t, from last month's level."""
    if not enabled:
        return 0.0, 0.0
    if t == 1:
        return start, start
    new = level * growth
    return new, level * (1 - churn) + new


def _month(s: Scenario, t: int, state: dict) -> dict:
    """One month of monthly_pnl; `state` carries the cohorts and cumulative net to the next month."""
    a, b, c, k, r = s.api, s.subscription, s.services, s.costs, s.resolution
    new_seats, seats = _grow(b.enabled, b.seats_start, b.growth_monthly, b.churn_monthly, t, state["seats"])
    new_customers, customers = _grow(
        a.enabled, a.customers_start, a.customer_growth_monthly, a.churn_monthly, t, state["customers"]
    )
    new_res, res_customers = _grow(
        r.enabled, r.customers_start, r.customer_growth_monthly, r.churn_monthly, t, state["res_customers"]
    )
    state.update(seats=seats, customers=customers, res_customers=res_customers)
    contracts = c.contracts_per_quarter * (1 + c.growth_quarterly) ** ((t - 1) // 3) if c.enabled else 0.0
    price_f = (1 - s.trend.price_decline_yearly) ** ((t - 1) / 12)
    cost_f = (1 - s.trend.cost_decline_yearly) ** ((t - 1) / 12)

    api_m_tokens = customers * a.tokens_per_customer_month / 1e6
    conversations = res_customers * r.conversations_per_customer_month
    resolutions = conversations * r.resolution_rate
    row = {
        "month": t,
        "seats": seats,
        "new_seats": new_seats,
        "api_customers": customers,
        "new_api_customers": new_customers,
        "contracts_per_quarter": contracts,
        "resolution_customers": res_customers,
        "new_resolution_customers": new_res,
        "resolutions": resolutions,
        "revenue_subscription": seats * b.price_per_seat_month,
        "revenue_api": api_m_tokens * a.price_per_million_tokens * price_f,
        "revenue_services": contracts * c.contract_value / 3,
        "revenue_resolution": resolutions * r.price_per_resolution * price_f,
        "serving_cost": cost_f
        * (
            seats * b.serving_cost_per_seat_month
            + api_m_tokens * a.serving_cost_per_million_tokens
            + conversations * r.serving_cost_per_conversation
        ),
        "team": k.team_monthly * (1 + k.team_growth_monthly) ** (t - 1),
        "other_fixed": k.other_fixed_monthly,
        "acquisition": new_seats * b.cac_per_seat + new_customers * a.cac_per_customer + new_res * r.cac_per_customer,
        "training": k.training_one_off if t == 1 else 0.0,
    }
    revenue = row["revenue_subscription"] + row["revenue_api"] + row["revenue_services"] + row["revenue_resolution"]
    delivery = row["revenue_services"] * c.delivery_cost_pct
    gross = revenue - row["serving_cost"] - delivery
    opex = row["team"] + row["other_fixed"] + row["acquisition"] + row["training"]
    state["cumulative"] += gross - opex
    return row | {
        "revenue": revenue,
        "delivery_cost": delivery,
        "gross_profit": gross,
        "gross_margin": gross / revenue if revenue > 0 else None,
        "opex": opex,
        "net": gross - opex,
        "cumulative_net": state["cumulative"],
        "cash": k.starting_cash + state["cumulative"],
    }


def break_even_month(df: pd.DataFrame, kind: str = "operating") -> int | None:
    """Operating break-even: the first month whose net result is >= 0.
    Payback (kind="payback"): the first month in which the sum of all net results so far is >= 0,
    i.e. everything spent since month 1 has been earned back. None: not within the plan."""
    if kind == "payback":
        return payback_month(df)
    if kind != "operating":
        raise InputError("unknown_kind", kind=kind)
    hits = df.index[df["net"] >= 0]
    return int(df.loc[hits[0], "month"]) if len(hits) else None


def payback_month(df: pd.DataFrame) -> int | None:
    """The first month in which cumulative net (cash now - starting cash) is back to >= 0; None if never."""
    hits = df.index[df["cumulative_net"] >= 0]
    return int(df.loc[hits[0], "month"]) if len(hits) else None


def runway_months(df: pd.DataFrame) -> int | None:
    """Months the cash lasts: the number of months before cash first goes below zero.
    None: cash never runs out within the plan (the runway is longer than the plan)."""
    hits = df.index[df["cash"] < 0]
    return int(df.loc[hits[0], "month"]) - 1 if len(hits) else None


def subscription_metrics(sub: Subscription) -> dict:
    """Per-seat SaaS economics (see e.g. D. Skok, "SaaS Metrics 2.0", forEntrepreneurs.com).

    Gross margin per seat = price - serving cost per seat.
    Customer lifetime = 1 / monthly churn (months).
    LTV (lifetime value) = gross margin per seat / monthly churn.
    LTV / CAC: above ~3 is the usual rule of thumb for a healthy business.
    CAC payback = CAC / gross margin per seat (months to earn back the cost of winning a seat).
    None where undefined (no churn: LTV unbounded; no margin: never paid back).
    """
    check_nonneg(sub.price_per_seat_month, "seat_price")
    check_nonneg(sub.cac_per_seat, "seat_cac")
    check_nonneg(sub.serving_cost_per_seat_month, "seat_serving_cost")
    check_share(sub.churn_monthly, "seat_churn")
    margin = sub.price_per_seat_month - sub.serving_cost_per_seat_month
    ltv = margin / sub.churn_monthly if sub.churn_monthly > 0 else None
    return {
        "arpu": sub.price_per_seat_month,
        "gross_margin_per_seat": margin,
        "gross_margin_pct": margin / sub.price_per_seat_month if sub.price_per_seat_month > 0 else None,
        "lifetime_months": 1 / sub.churn_monthly if sub.churn_monthly > 0 else None,
        "ltv": ltv,
        "ltv_to_cac": ltv / sub.cac_per_seat if ltv is not None and sub.cac_per_seat > 0 else None,
        "cac_payback_months": sub.cac_per_seat / margin if margin > 0 else None,
    }


# ------------------------------------------------------------------- the same P&L, many paths at once


def pnl_arrays(
    scenario: Scenario, overrides: dict[str, np.ndarray] | None = None, months: int | None = None
) -> dict[str, np.ndarray]:
    """monthly_pnl for many variants at once (Monte Carlo, tornado), vectorised with numpy.

    `overrides` maps dotted input paths (e.g. "subscription.churn_monthly") to arrays of equal
    length n; every other input is the scenario's. Same formulas as monthly_pnl, in closed form:
    seats in month t = start x (1 + growth - churn)^(t-1). Returns arrays of shape (n, months):
    revenue, gross_profit, opex, net, cumulative_net, cash.
    """
    overrides = overrides or {}
    months = scenario.months if months is None else months
    n = max([len(np.atleast_1d(v)) for v in overrides.values()] or [1])

    def v(path: str) -> np.ndarray:
        x = overrides[path] if path in overrides else scenario.get(path)
        return np.broadcast_to(np.asarray(x, dtype=float), (n,))[:, None]

    t = np.arange(1, months + 1, dtype=float)[None, :]
    zero = np.zeros((n, months))

    def cohort(start, growth, churn):
        level = start * (1 + growth - churn) ** (t - 1)
        new = np.where(t == 1, start, growth * start * (1 + growth - churn) ** np.maximum(t - 2, 0))
        return level, new

    seats, new_seats, customers, new_customers, res_customers, new_res = _cohorts(scenario, v, cohort, zero)
    if scenario.services.enabled:
        contracts = v("services.contracts_per_quarter") * (1 + v("services.growth_quarterly")) ** ((t - 1) // 3)
    else:
        contracts = zero
    price_f = (1 - v("trend.price_decline_yearly")) ** ((t - 1) / 12)
    cost_f = (1 - v("trend.cost_decline_yearly")) ** ((t - 1) / 12)

    api_m_tokens = customers * v("api.tokens_per_customer_month") / 1e6
    conversations = res_customers * v("resolution.conversations_per_customer_month")
    rev_srv = contracts * v("services.contract_value") / 3
    revenue = (
        seats * v("subscription.price_per_seat_month")
        + price_f
        * (
            api_m_tokens * v("api.price_per_million_tokens")
            + conversations * v("resolution.resolution_rate") * v("resolution.price_per_resolution")
        )
        + rev_srv
    )
    cost_of_revenue = cost_f * (
        seats * v("subscription.serving_cost_per_seat_month")
        + api_m_tokens * v("api.serving_cost_per_million_tokens")
        + conversations * v("resolution.serving_cost_per_conversation")
    ) + rev_srv * v("services.delivery_cost_pct")
    gross = revenue - cost_of_revenue
    opex = (
        v("costs.team_monthly") * (1 + v("costs.team_growth_monthly")) ** (t - 1)
        + v("costs.other_fixed_monthly")
        + new_seats * v("subscription.cac_per_seat")
        + new_customers * v("api.cac_per_customer")
        + new_res * v("resolution.cac_per_customer")
        + np.where(t == 1, v("costs.training_one_off"), 0.0)
    )
    net = gross - opex
    cumulative = np.cumsum(net, axis=1)
    return {
        "revenue": revenue,
        "gross_profit": gross,
        "opex": opex,
        "net": net,
        "cumulative_net": cumulative,
        "cash": v("costs.starting_cash") + cumulative,
    }


def _cohorts(scenario: Scenario, v, cohort, zero) -> tuple[np.ndarray, ...]:
    """(seats, new seats, API customers, new ones, per-resolution customers, new ones) for pnl_arrays."""
    out = []
    for on, prefix, growth in (
        (scenario.subscription.enabled, "subscription", "growth_monthly"),
        (scenario.api.enabled, "api", "customer_growth_monthly"),
        (scenario.resolution.enabled, "resolution", "customer_growth_monthly"),
    ):
        start = "seats_start" if prefix == "subscription" else "customers_start"
        if on:
            out += cohort(v(f"{prefix}.{start}"), v(f"{prefix}.{growth}"), v(f"{prefix}.churn_monthly"))
        else:
            out += [zero, zero]
    return tuple(out)


def first_month(mask: np.ndarray, never: int) -> np.ndarray:
    """Per row, the first month (1-based) where mask is true, else `never`."""
    hit = mask.any(axis=1)
    return np.where(hit, mask.argmax(axis=1) + 1, never)

"""Every tab of the calculator at once, for a scenario: the Training and Serving tabs' estimates,
unit economics, the P&L, the price war, market size, sensitivity and Monte Carlo.

This sits above the rest of the engine: business holds the inputs and their validation, pnl the P&L;
the modules here import them and each other's results, never the reverse.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.economics.business import Scenario
from core.economics.capacity import Machine, Traffic, gpu_machine
from core.economics.capacity_plan import CapacityPlan, capacity_plan
from core.economics.market import market_sizing
from core.economics.pnl import break_even_month, monthly_pnl, payback_month, runway_months, subscription_metrics
from core.economics.price_war import CompetitorCut, compare_responses
from core.economics.prices import compare_with_api
from core.economics.resolution import (
    Outcomes,
    compare_resolution,
    cost_per_resolved,
    resolution_monte_carlo,
    resolution_tornado,
)
from core.economics.serving import estimate_serving
from core.economics.training import OwnedHardware, estimate_finetune, estimate_training
from core.economics.uncertainty import scenario_monte_carlo, tornado
from core.economics.unit_economics import cost_per_user_curve, serving_plan

# ------------------------------------------------------------------ the Training and Serving tabs' estimates


def scenario_training(s: Scenario, gpu: str | None = None):
    """The Training tab's estimate for a scenario: pre-training or a fine-tune (full, LoRA, QLoRA), on
    rented GPUs (catalogue price unless given) or owned ones. `gpu` overrides the scenario's GPU.

    An estimate only: the P&L deducts costs.training_one_off, which the Training tab's button sets
    to this estimate's cost."""
    tr = s.training
    gpu = gpu or tr.gpu
    owned = (
        OwnedHardware(tr.purchase_usd_per_gpu, tr.amortisation_years, tr.pue, tr.usd_per_kwh, tr.owned_utilisation)
        if tr.owned
        else None
    )
    if tr.method == "pretrain":
        return estimate_training(tr.params, tr.tokens, gpu, tr.gpus, tr.mfu, tr.usd_per_gpu_hour, owned=owned)
    return estimate_finetune(
        tr.params, tr.tokens, gpu, tr.method, tr.lora_fraction, tr.gpus, tr.mfu, tr.usd_per_gpu_hour, owned=owned
    )


def scenario_price_war(s: Scenario):
    """The Price war tab's month-by-month paths, one per response to the competitor's cut."""
    pw = s.price_war
    return compare_responses(
        pw.our_price,
        CompetitorCut(pw.cut_pct, pw.cut_month, pw.competitor_start, pw.decline_yearly),
        pw.elasticity,
        pw.market_size,
        pw.base_share,
        pw.unit_cost,
        months=s.months,
        undercut_pct=pw.undercut_pct,
        response_lag=pw.response_lag,
        market_elasticity=pw.market_elasticity,
    )


def scenario_serving(s: Scenario, batch: int | None = None):
    """The Serving tab's estimate for a scenario: prompts of usage.input_tokens (at most the context),
    $ per 1M tokens at the serving target utilisation (a GPU paid for all day is not busy all day).
    `batch` overrides the scenario's batch size."""
    sv = s.serving
    asked = s.usage.input_tokens
    prompt = max(1, min(int(asked), sv.context)) if asked is not None and math.isfinite(asked) else None
    return estimate_serving(
        sv.params,
        sv.gpu,
        sv.precision,
        batch=batch or sv.batch,
        context=sv.context,
        layers=sv.layers,
        kv_heads=sv.kv_heads,
        head_dim=sv.head_dim,
        prompt_tokens=prompt,
        utilisation=sv.target_utilisation,
        usd_per_gpu_hour=sv.usd_per_gpu_hour,
        kv_precision=sv.kv_precision,
        total_params=sv.total_params,
    )


# ------------------------------------------------------------------ the Capacity tab: machines and resolutions


def scenario_machine(s: Scenario) -> Machine:
    """The Capacity tab's machine: this one at its measured speeds (capacity.*), or a catalogue GPU
    serving the Serving tab's model (its precision, context, shape and $ per GPU-hour) with
    capacity.slots answers at once."""
    cp, sv = s.capacity, s.serving
    if cp.machine == "this":
        return Machine(
            "this machine",
            cp.prefill_tok_s,
            cp.decode_tok_s,
            cp.slots,
            cp.slot_scaling,
            cp.usd_per_machine_hour,
            "measured",
        ).validate()
    return gpu_machine(
        cp.machine,
        sv.params,
        cp.slots,
        sv.precision,
        sv.context,
        usd_per_gpu_hour=sv.usd_per_gpu_hour,
        total_params=sv.total_params,
        layers=sv.layers,
        kv_heads=sv.kv_heads,
        head_dim=sv.head_dim,
        kv_precision=sv.kv_precision,
    )


def scenario_traffic(s: Scenario) -> Traffic:
    cp = s.capacity
    return Traffic(
        cp.conversations_per_day,
        cp.questions_per_conversation,
        cp.daily_curve,
        cp.tier1_share,
        cp.tier2_share,
        cp.prompt_tokens,
        cp.output_tokens,
        cp.tier1_s,
        cp.tier3_s,
        cp.overhead_s,
        cp.service_cv,
    ).validate()


def scenario_capacity(s: Scenario) -> CapacityPlan:
    """Machines for the p90 target at the busiest hour, the day's latencies and the serving cost."""
    return capacity_plan(scenario_machine(s), scenario_traffic(s), s.capacity.target_p90_s)


def scenario_outcomes(s: Scenario) -> Outcomes:
    return Outcomes(s.support.right_rate, s.support.handover_rate, s.support.wrong_rate).validate()


def scenario_resolution(s: Scenario, plan: CapacityPlan | None = None, draws: int = 2000) -> dict:
    """Cost per resolved conversation from the capacity plan's serving cost (None without a machine
    price), its comparison with per-resolution services and APIs, its tornado and Monte Carlo
    (+/- the Risk tab's swing; p_cheaper: against the first per-resolution service)."""
    plan = scenario_capacity(s) if plan is None else plan
    sp, traffic = s.support, scenario_traffic(s)
    outcomes = scenario_outcomes(s)
    serving = plan.cost_per_conversation_usd
    written = traffic.questions_per_conversation * traffic.tier2_share
    table = compare_resolution(
        serving,
        outcomes,
        sp.person_cost_per_conversation,
        sp.wrong_answer_cost,
        written,
        traffic.prompt_tokens,
        traffic.output_tokens,
        sp.bill_wrong_as_resolved,
    )
    out: dict = {"comparison": table, "cost": None, "tornado": None, "monte_carlo": None}
    if serving is not None:
        args = (serving, outcomes, sp.person_cost_per_conversation, sp.wrong_answer_cost)
        services = table[table["kind"] == "service"]
        rival = float(services["per_resolved"].iloc[0]) if len(services) else None
        out["cost"] = cost_per_resolved(*args)
        out["tornado"] = resolution_tornado(*args, swing=s.uncertainty.swing)
        out["monte_carlo"] = resolution_monte_carlo(
            *args, swing=s.uncertainty.swing, draws=draws, seed=s.uncertainty.seed, compare_with=rival
        )
    return out


# --------------------------------------------------------------------------------- every tab at once


def evaluate_scenario(s: Scenario, monte_carlo_draws: int = 0) -> dict:
    """Every number the calculator's tabs show, recomputed from the scenario's inputs.

    Keys: training, serving, plan, curve, api_comparison, pnl, break_even_month, payback_month,
    runway_months, subscription_metrics, price_war, market, tornado, capacity (the Capacity tab's
    plan), resolution (cost per resolved conversation and its comparison), monte_carlo (when draws > 0),
    and errors: {key: message} for each part whose inputs are impossible (that part is None; the
    others are still computed). The cost-per-user curve uses the P&L's costs: team + other fixed as
    the fixed monthly cost, and the P&L's training cost (costs.training_one_off) spread over 24 months.
    Serving is at the serving tab's target utilisation (its $ per 1M tokens and the self-hosted row of
    the API comparison). Monte Carlo: the scenario's ranges (else +/- its swing), "within N months"
    capped at the plan's length.
    """
    sv, mk, u = s.serving, s.market, s.uncertainty
    out: dict = {"errors": {}}

    def part(keys: str, compute) -> None:
        names = keys.split()
        try:
            values = compute()
        except ValueError as exc:
            values = [None] * len(names) if len(names) > 1 else None
            out["errors"][names[0]] = str(exc)
        out.update(zip(names, values, strict=False) if len(names) > 1 else {names[0]: values})

    def unit():
        est = out["serving"]
        if est is None or est.usd_per_gpu_hour is None:
            return None, None, compare_with_api(None, None, s.usage.input_tokens, s.usage.output_tokens)
        return (
            serving_plan(s.usage, est, sv.target_utilisation),
            unit_cost_curve(s, est),
            compare_with_api(
                est.usd_per_million_input_tokens,
                est.usd_per_million_output_tokens,
                s.usage.input_tokens,
                s.usage.output_tokens,
            ),
        )

    def business():
        pnl = monthly_pnl(s)
        return (
            pnl,
            break_even_month(pnl),
            payback_month(pnl),
            runway_months(pnl),
            subscription_metrics(s.subscription),
        )

    part("training", lambda: scenario_training(s))
    part("serving", lambda: scenario_serving(s))
    part("plan curve api_comparison", unit)
    part("pnl break_even_month payback_month runway_months subscription_metrics", business)
    part("price_war", lambda: scenario_price_war(s))
    part("market", lambda: market_sizing(mk.companies, mk.spend_per_company_usd, mk.serviceable_pct, mk.obtainable_pct))
    part("tornado", lambda: tornado(s, swing=u.swing))
    part("capacity", lambda: scenario_capacity(s))
    if out["capacity"] is not None:
        part("resolution", lambda: scenario_resolution(s, out["capacity"]))
    else:
        out["resolution"] = None
    if monte_carlo_draws:
        part("monte_carlo", lambda: scenario_monte_carlo(s, monte_carlo_draws))
    return out


TRAINING_AMORTISATION_MONTHS = 24


def unit_cost_curve(s: Scenario, serving, max_users: float | None = None, points: int = 60) -> pd.DataFrame:
    """The Unit economics tab's cost-per-user curve, from the same costs the P&L uses: team + other
    fixed costs a month, and the P&L's training cost (costs.training_one_off) spread over 24 months.
    `serving` is the scenario's serving estimate (scenario_serving); user counts 10 .. max_users."""
    top = s.serving.curve_max_users if max_users is None else max_users
    users = np.unique(np.round(np.geomspace(10, max(top, 20), points)))
    return cost_per_user_curve(
        users,
        s.usage,
        serving,
        s.serving.target_utilisation,
        s.costs.team_monthly + s.costs.other_fixed_monthly,
        s.costs.training_one_off,
        TRAINING_AMORTISATION_MONTHS,
    )

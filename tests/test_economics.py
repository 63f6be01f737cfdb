"""The economics engine (core/economics) and `python -m core cost`: each formula against a case
worked by hand (arithmetic in the comments), published training runs, the P&L, Monte Carlo, price war."""

import dataclasses
import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from core.cli.cost import parse_quantity
from core.cli.main import main
from core.economics import (
    DEFAULT_MFU,
    PRICE_DATE,
    PRICE_SOURCE,
    CompetitorCut,
    InputError,
    Message,
    OwnedHardware,
    Scenario,
    Usage,
    break_even_month,
    calibration_table,
    compare_responses,
    compare_with_api,
    compute_optimal_tokens,
    cost_per_user_curve,
    estimate_finetune,
    estimate_serving,
    estimate_training,
    evaluate_scenario,
    finetune_flops,
    finetune_memory_gb,
    get_gpu,
    implied_mfu,
    kv_cache_gb,
    load_api_prices,
    load_gpus,
    load_training_runs,
    localise,
    market_sizing,
    monte_carlo,
    monthly_pnl,
    payback_month,
    pnl_arrays,
    runway_months,
    scenario_monte_carlo,
    scenario_serving,
    scenario_training,
    serving_plan,
    simulate_price_war,
    subscription_metrics,
    summarise_responses,
    tornado,
    training_flops,
)
from core.economics.summary import Summary, chart_png, plan_figures, to_markdown
from core.i18n.calc import STRINGS as COST_STRINGS
from core.i18n.translate import t as translate

# ------------------------------------------------------------------------------------------ catalogue


def test_catalogue_has_the_required_gpus_each_with_sources():
    gpus = load_gpus()
    for name in ("A100-80GB", "H100-SXM", "H200", "H800", "L4", "A10G", "T4", "RTX-4090", "V100"):
        assert name in gpus
    for g in gpus.values():
        assert g.bf16_tflops > 0 and g.memory_gb > 0 and g.bandwidth_gbs > 0
        assert g.spec_source and g.price_source
        assert g.usd_per_hour is None or (g.usd_per_hour > 0 and g.price_date)
    # Known quirks of the reference data, fixed with the datasheet figures.
    assert gpus["H200"].memory_gb == 141
    assert gpus["RTX-4090"].bf16_tflops == 165.2 and "FP16-accumulate" in gpus["RTX-4090"].notes
    assert gpus["T4"].bf16_tflops == 65 and gpus["A10G"].bf16_tflops == 70
    assert "NVLink" in gpus["H800"].notes


@pytest.mark.parametrize(
    "typed, name",
    [
        ("h100", "H100-SXM"),
        (" H100 sxm ", "H100-SXM"),
        ("4090", "RTX-4090"),
        ("rtx 4090", "RTX-4090"),
        ("a100-80gb", "A100-80GB"),
        ("l40s", "L40S"),
    ],
)
def test_get_gpu_aliases(typed, name):
    assert get_gpu(typed).name == name


def test_get_gpu_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown GPU 'Voodoo2'.*H100-SXM"):
        get_gpu("Voodoo2")


# ------------------------------------------------------------------------------------------- training


def test_training_formulas_by_hand():
    assert training_flops(7e9, 2e12) == pytest.approx(8.4e22)  # 6 x 7e9 x 2e12
    assert compute_optimal_tokens(7e9) == pytest.approx(1.4e11)  # 20 x 7e9
    est = estimate_training(7e9, 2e12, "A100-80GB", gpus=1024, mfu=0.4, usd_per_gpu_hour=2.0)
    # 8.4e22 / (312e12 x 0.4) = 6.7308e8 GPU-seconds = 186,965.8 GPU-hours
    assert est.gpu_hours == pytest.approx(186_965.8, rel=1e-6)
    assert est.wall_days == pytest.approx(186_965.8 / 1024 / 24, rel=1e-6)  # 7.608 days
    assert est.cost_usd == pytest.approx(373_931.6, rel=1e-6)  # x $2
    assert est.energy_kwh == pytest.approx(186_965.8 * 0.4, rel=1e-6)  # 400 W each
    assert est.cost_breakdown == {"GPU rental": pytest.approx(373_931.6, rel=1e-6)}


def test_training_uses_catalogue_price_and_fp8_peak():
    cloud = estimate_training(7e9, 2e12, "H100-SXM")
    assert cloud.mfu == DEFAULT_MFU == 0.40 and cloud.usd_per_gpu_hour == get_gpu("H100-SXM").usd_per_hour
    fp8 = estimate_training(7e9, 2e12, "H100-SXM", precision="fp8")
    assert fp8.gpu_hours == pytest.approx(cloud.gpu_hours * 989.4 / 1979)


def test_no_price_gives_no_cost_not_an_error():
    est = estimate_training(7e9, 1e12, "MI300X")
    assert est.cost_usd is None and est.usd_per_gpu_hour is None and "enter a $ per GPU-hour" in est.notes[0]
    assert estimate_training(7e9, 1e12, "MI300X", usd_per_gpu_hour=2).cost_usd > 0


def test_owned_hardware_by_hand():
    owned = OwnedHardware(purchase_usd_per_gpu=30_000, amortisation_years=4, pue=1.5, usd_per_kwh=0.1, utilisation=0.5)
    est = estimate_training(7e9, 2e12, "H100-SXM", gpus=8, owned=owned)
    # amortisation 30,000 / (4 x 8,760 x 0.5) = 1.71233 $/h; energy 0.7 kW x 1.5 x $0.1 = 0.105 $/h
    assert est.usd_per_gpu_hour == pytest.approx(1.71233 + 0.105, rel=1e-5)
    assert est.cost_breakdown["energy"] == pytest.approx(0.105 * est.gpu_hours)
    assert est.cost_usd == pytest.approx(sum(est.cost_breakdown.values()))
    assert est.pricing == "owned"


def test_finetune_flops_and_memory_by_hand():
    # LoRA: (4 + 2 x 0.01) x N x D = 4.02 x 7e9 x 1e9
    assert finetune_flops(7e9, 1e9, "lora", 0.01) == pytest.approx(2.814e19)
    assert finetune_flops(7e9, 1e9, "full") == pytest.approx(4.2e19)  # 6ND
    assert finetune_memory_gb(7e9, "full") == pytest.approx(112)  # 7e9 x 16 bytes
    assert finetune_memory_gb(7e9, "lora", 0.01) == pytest.approx(15.12)  # 14 GB frozen + 7e7 x 16 bytes
    assert finetune_memory_gb(7e9, "qlora", 0.01) == pytest.approx(4.62)  # 3.5 GB 4-bit + 1.12
    full = estimate_finetune(7e9, 1e9, "A100-80GB", method="full")
    assert not full.fits and full.gpus_for_memory == 2  # 112 GB > 72 GB usable
    assert estimate_finetune(7e9, 1e9, "A100-80GB", method="full", gpus=2).fits
    lora = estimate_finetune(7e9, 1e9, "A100-80GB", method="lora")
    assert lora.fits and lora.gpu_hours == pytest.approx(full.gpu_hours * 4.02 / 6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mfu": 1.5}, "MFU must be more than 0 and at most 1"),
        ({"mfu": 0}, "MFU must be more than 0"),
        ({"gpus": 0}, "number of GPUs must be a whole number of at least 1"),
        ({"usd_per_gpu_hour": -1}, "cannot be negative"),
        ({"precision": "fp3"}, "Unknown precision"),
    ],
)
def test_training_impossible_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_training(7e9, 1e12, "H100", **kwargs)
    with pytest.raises(ValueError, match="Parameters must be a positive number"):
        estimate_training(-7e9, 1e12, "H100")


def test_published_runs_reproduced():
    """Tolerance: at the default 40% MFU, the Llama 2 runs (A100) within 10% of the reported GPU-hours and
    DeepSeek-V3 (H800, 37B active) within 15%. GPT-3 ran on V100 at ~20% MFU, so the default is ~2x
    optimistic there; the calibration table shows that as its implied MFU."""
    runs = {r["model"]: r for r in load_training_runs()}
    gpt3 = runs["GPT-3 175B"]
    assert training_flops(gpt3["params_active"], gpt3["tokens"]) == pytest.approx(gpt3["reported_flops"], rel=0.01)
    table = calibration_table().set_index("model")
    for model in ("Llama 2 7B", "Llama 2 13B", "Llama 2 70B"):
        assert table.loc[model, "ratio"] == pytest.approx(1, abs=0.10)
    assert table.loc["DeepSeek-V3", "ratio"] == pytest.approx(1, abs=0.15)
    # Implied MFU, Llama 2 7B: 8.4e22 / (184,320 h x 3,600 x 312e12) = 0.4057
    assert implied_mfu(7e9, 2e12, "A100-80GB", 184_320) == pytest.approx(0.4057, abs=1e-4)
    # GPT-3: 3.143e23 / (3,552,000 h x 3,600 x 125e12) = 0.197 (PaLM paper: 21.3%)
    assert table.loc["GPT-3 175B", "implied_mfu"] == pytest.approx(0.197, abs=0.005)
    # DeepSeek-V3's reported $5.576M = 2.788M GPU-hours x $2
    ds = runs["DeepSeek-V3"]
    assert ds["gpu_hours_total_reported"] * ds["reported_usd_per_gpu_hour"] == pytest.approx(ds["reported_cost_usd"])
    assert not table.isna().drop(columns="reported_flops").any().any()


# -------------------------------------------------------------------------------------------- serving


def test_serving_memory_by_hand():
    assert kv_cache_gb(32, 8, 128, 4096, 1, "bf16") == pytest.approx(0.536870912)  # 2x32x8x128x4096x2 bytes
    est = estimate_serving(
        8e9, "H100-SXM", batch=1, context=4096, layers=32, kv_heads=8, head_dim=128, usd_per_gpu_hour=2.0
    )
    assert est.weights_gb == pytest.approx(16)  # 8e9 x 2 bytes
    assert est.kv_cache_gb == pytest.approx(0.536870912)
    assert est.fits and est.gpus_needed == 1 and not est.shape_estimated
    # Decode step reads 16.537 GB at 3,350 GB/s x 0.7 = 2,345 GB/s -> 7.0520 ms; maths 1.6e10 / (989.4e12 x 0.5)
    # = 0.032 ms -> memory-bound, 141.80 tokens/s; prefill 4.947e14 / 1.6e10 = 30,918.75 tokens/s
    assert est.bound == "memory" and est.step_ms == pytest.approx(7.0520, rel=1e-4)
    assert est.decode_tok_s == pytest.approx(141.80, rel=1e-4)
    assert est.prefill_tok_s == pytest.approx(30_918.75)
    # $2 / (141.80 x 3,600) x 1e6 = $3.918 per 1M output tokens
    assert est.usd_per_million_output_tokens == pytest.approx(3.918, rel=1e-3)
    assert est.ttft_s == pytest.approx(2048 / 30_918.75)


def test_serving_compute_bound_at_large_batch_and_precision_bytes():
    est = estimate_serving(8e9, "H100-SXM", batch=512, context=256, layers=32, kv_heads=8, head_dim=128)
    # memory step (16 + 17.18 GB) / 2,345 GB/s = 14.1 ms < maths 512 x 1.6e10 / 4.947e14 = 16.6 ms
    assert est.bound == "compute" and est.decode_tok_s == pytest.approx(est.prefill_tok_s)
    assert estimate_serving(8e9, "H100", precision="int4").weights_gb == pytest.approx(4)
    assert estimate_serving(8e9, "H100", precision="fp8").weights_gb == pytest.approx(8)


def test_model_that_does_not_fit_reports_gpus_needed():
    est = estimate_serving(70e9, "A100-80GB")  # 140 GB of weights + 1.34 GB KV > 72 GB usable
    assert not est.fits and est.gpus_needed == 2 and est.shape_estimated and "70B" in est.shape_source
    assert est.decode_tok_s > 0 and math.isfinite(est.usd_per_million_output_tokens)


def test_serving_impossible_inputs():
    with pytest.raises(ValueError, match="Batch size must be a whole number of at least 1"):
        estimate_serving(8e9, "L4", batch=0)
    with pytest.raises(ValueError, match="Give all three"):
        estimate_serving(8e9, "L4", layers=32)
    with pytest.raises(ValueError, match="Total parameters cannot be fewer"):
        estimate_serving(37e9, "H200", total_params=7e9)
    assert estimate_serving(8e9, "B200").usd_per_million_output_tokens is None


def test_api_price_snapshot():
    df = load_api_prices()
    assert len(df) >= 15 and PRICE_SOURCE.startswith("litellm ") and PRICE_DATE == "2026-11-12"
    assert (df["input_usd_per_1m"] > 0).all() and (df["output_usd_per_1m"] > 0).all()
    assert {"OpenAI", "Anthropic", "Google", "DeepSeek", "Mistral"} <= set(df["provider"])
    cmp = compare_with_api(0.1, 1.0, input_tokens=500, output_tokens=300)
    own = cmp[cmp["model"] == "Self-hosted"].iloc[0]
    assert own["usd_per_1k_requests"] == pytest.approx((500 * 0.1 + 300 * 1.0) / 1000)  # $0.35
    assert own["blended_usd_per_1m"] == pytest.approx((500 * 0.1 + 300 * 1.0) / 800)


# ---------------------------------------------------------------------------------------- unit economics


def _fixed_speed_estimate():
    est = estimate_serving(8e9, "L4")
    return dataclasses.replace(est, prefill_tok_s=10_000.0, decode_tok_s=1_000.0, gpus_needed=1, usd_per_gpu_hour=2.0)


def test_serving_plan_by_hand():
    usage = Usage(users=1000, requests_per_user_per_day=10, input_tokens=500, output_tokens=300)
    assert usage.monthly_requests == pytest.approx(304_166.67, rel=1e-6)  # 1000 x 10 x 365/12
    plan = serving_plan(usage, _fixed_speed_estimate(), target_utilisation=0.6)
    # GPU-seconds 304,166.7 x 500 / 10,000 + 304,166.7 x 300 / 1,000 = 106,458.3 over 2,628,000 s = 0.0405 GPUs
    assert plan.busy_gpus == pytest.approx(106_458.33 / 2_628_000, rel=1e-6)
    assert plan.gpus == 1 and plan.monthly_cost_usd == pytest.approx(1460)  # 1 x 730 h x $2
    assert plan.cost_per_user_usd == pytest.approx(1.46)
    big = serving_plan(Usage(100_000, 10, 500, 300), _fixed_speed_estimate(), 0.6)
    assert big.gpus == 7  # 4.0509 busy / 0.6 = 6.75 -> 7
    with pytest.raises(ValueError, match="Users cannot be negative"):
        serving_plan(Usage(-5), _fixed_speed_estimate())


def test_cost_per_user_curve_steps_down():
    users = [0, 100, 1_000, 10_000, 50_000, 100_000, 200_000]
    df = cost_per_user_curve(
        users, Usage(), _fixed_speed_estimate(), 0.6, fixed_monthly_usd=10_000, training_usd=24_000, amortise_months=24
    )
    assert df["cost_per_user"].iloc[0] is None  # no users: undefined, not inf
    assert list(df["gpus"]) == sorted(df["gpus"]) and df["gpus"].iloc[-1] > df["gpus"].iloc[1]
    # 1,000 users: (1 GPU x 730 x $2 + 10,000 + 24,000 / 24) / 1,000 = $12.46 per user
    assert df["cost_per_user"].iloc[2] == pytest.approx(12.46)
    per_user = df["cost_per_user"].iloc[1:].astype(float)
    assert per_user.is_monotonic_decreasing


# ----------------------------------------------------------------------------------------- business


def _simple() -> Scenario:
    """Subscription only: 100 seats at $10, +10% new a month, 5% churn, CAC $20, serving $1/seat;
    team $1,000/month, training $500 in month 1, $5,000 cash."""
    s = Scenario()
    s.api.enabled = s.services.enabled = False
    b, c = s.subscription, s.costs
    b.seats_start, b.price_per_seat_month, b.growth_monthly, b.churn_monthly = 100, 10, 0.10, 0.05
    b.cac_per_seat, b.serving_cost_per_seat_month = 20, 1
    c.team_monthly, c.team_growth_monthly, c.other_fixed_monthly, c.training_one_off, c.starting_cash = (
        1000,
        0,
        0,
        500,
        5000,
    )
    return s


def test_monthly_pnl_by_hand():
    df = monthly_pnl(_simple())
    assert len(df) == 36 and not df.drop(columns="gross_margin").isna().any().any()
    m1, m2, m3 = df.iloc[0], df.iloc[1], df.iloc[2]
    # Month 1: revenue 100 x 10 = 1,000; serving 100; opex 1,000 + 100 x 20 + 500 = 3,500; net -2,600
    assert (m1.revenue, m1.serving_cost, m1.opex, m1.net, m1.cash) == pytest.approx((1000, 100, 3500, -2600, 2400))
    # Month 2: 10 new, 100 x 0.95 + 10 = 105 seats; net 945 - (1,000 + 200) = -255
    assert (m2.new_seats, m2.seats, m2.net) == pytest.approx((10, 105, -255))
    # Month 3: 10.5 new, 110.25 seats; net 992.25 - 1,210 = -217.75
    assert (m3.seats, m3.net, m3.cash) == pytest.approx((110.25, -217.75, 1927.25))
    assert m1.gross_margin == pytest.approx(0.9)


def test_break_even_payback_runway_by_hand():
    df = monthly_pnl(_simple())
    # net(t) = 745 x 1.05^(t-2) - 1,000: month 8 -> -1.6, month 9 -> +48.3
    assert break_even_month(df) == 9
    # cumulative = -2,600 + 14,900 x (1.05^(T-1) - 1) - 1,000 x (T-1): T=18 -> -349, T=19 -> +358
    assert payback_month(df) == break_even_month(df, kind="payback") == 19
    assert runway_months(df) is None  # lowest cash (month 8) is +1,466
    poorer = _simple().replace("costs.starting_cash", 3000)
    assert runway_months(monthly_pnl(poorer)) == 2  # cash after month 3 is -72.75
    never = _simple().replace("subscription.price_per_seat_month", 2.0)
    assert break_even_month(monthly_pnl(never)) is None and payback_month(monthly_pnl(never)) is None


def test_subscription_metrics_by_hand():
    m = subscription_metrics(_simple().subscription)
    # margin 10 - 1 = 9; LTV 9 / 0.05 = 180; LTV/CAC 180 / 20 = 9; CAC payback 20 / 9 = 2.22 months
    assert (m["gross_margin_per_seat"], m["ltv"], m["ltv_to_cac"]) == pytest.approx((9, 180, 9))
    assert m["cac_payback_months"] == pytest.approx(20 / 9) and m["lifetime_months"] == pytest.approx(20)
    no_churn = subscription_metrics(dataclasses.replace(_simple().subscription, churn_monthly=0))
    assert no_churn["ltv"] is None and no_churn["ltv_to_cac"] is None


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("subscription.seats_start", -10, "Seats cannot be negative"),
        ("subscription.churn_monthly", 1.5, "Seat churn must be between 0 and 1"),
        ("api.price_per_million_tokens", -1, "API price cannot be negative"),
        ("costs.team_monthly", float("nan"), "Team cost must be a number"),
        ("months", 0, "1 to 120 whole months"),
    ],
)
def test_business_impossible_inputs(path, value, message):
    with pytest.raises(ValueError, match=message):
        monthly_pnl(Scenario().replace(path, value))


def test_vectorised_pnl_matches_monthly_pnl():
    rng = np.random.default_rng(1)
    for _ in range(5):
        s = Scenario()
        s.services.enabled = bool(rng.integers(2))
        for path, (lo, hi) in {
            "subscription.growth_monthly": (0, 0.3),
            "subscription.churn_monthly": (0, 0.1),
            "api.customers_start": (0, 20),
            "costs.team_growth_monthly": (0, 0.05),
            "services.growth_quarterly": (0, 0.3),
        }.items():
            s = s.replace(path, float(rng.uniform(lo, hi)))
        df, arr = monthly_pnl(s), pnl_arrays(s)
        for col in ("revenue", "gross_profit", "opex", "net", "cumulative_net", "cash"):
            np.testing.assert_allclose(arr[col][0], df[col].to_numpy(), rtol=1e-9, atol=1e-6)


# ------------------------------------------------------------------------------------------- scenario


def test_scenario_round_trip_and_tolerant_loading():
    s = Scenario(name="Seed round")
    s.subscription.price_per_seat_month = 49.0
    s.uncertainty.ranges = {"subscription.churn_monthly": [0.02, 0.06]}
    d = json.loads(json.dumps(s.to_dict()))
    assert d["version"] == 1 and Scenario.from_dict(d) == s
    partial = Scenario.from_dict(
        {
            "name": "old",
            "subscription": {"price_per_seat_month": "12"},
            "unknown": 1,
            "costs": {"team_monthly": 5000, "retired_field": 3},
        }
    )
    assert partial.subscription.price_per_seat_month == 12.0 and partial.subscription.seats_start == 500
    assert partial.costs.team_monthly == 5000.0 and partial.api == Scenario().api
    assert Scenario.from_dict({}) == Scenario() and Scenario.from_dict(None) == Scenario()
    with pytest.raises(ValueError, match="subscription.churn_monthly should be a number"):
        Scenario.from_dict({"subscription": {"churn_monthly": "lots"}})
    typed = Scenario.from_dict(
        {"serving": {"usd_per_gpu_hour": "1.5", "layers": 32.0, "gpu": "H100"}, "training": {"usd_per_gpu_hour": None}}
    )
    assert typed.serving.usd_per_gpu_hour == 1.5 and typed.serving.layers == 32 and typed.serving.gpu == "H100"
    assert typed.training.usd_per_gpu_hour is None
    with pytest.raises(ValueError, match="Unknown scenario input"):
        s.get("subscription.nope")


def test_evaluate_scenario_every_tab_and_no_nan():
    r = evaluate_scenario(Scenario(), monte_carlo_draws=500)
    assert {
        "training",
        "serving",
        "plan",
        "curve",
        "api_comparison",
        "pnl",
        "break_even_month",
        "payback_month",
        "runway_months",
        "subscription_metrics",
        "price_war",
        "market",
        "tornado",
        "monte_carlo",
    } <= set(r)
    assert r["break_even_month"] == 25  # the default scenario breaks even in its third year
    nothing = Scenario()
    nothing.api.enabled = nothing.subscription.enabled = nothing.services.enabled = False
    r = evaluate_scenario(nothing)
    assert r["break_even_month"] is None and r["tornado"]["spread"].notna().all() and r["errors"] == {}
    assert r["pnl"]["gross_margin"].isna().all()  # no revenue: margin undefined (None), shown as "-"
    # An impossible input on one tab: that tab gets a message, the others still compute.
    bad = Scenario().replace("serving.batch", 0).replace("subscription.churn_monthly", 2.0)
    r = evaluate_scenario(bad)
    assert r["serving"] is None and r["plan"] is None and "Batch size" in r["errors"]["serving"]
    assert r["pnl"] is None and r["break_even_month"] is None and "Seat churn" in r["errors"]["pnl"]
    assert r["training"] is not None and r["market"] is not None and r["api_comparison"] is not None


# ---------------------------------------------------------------------------------------- uncertainty


def test_tornado_ranks_drivers():
    t = tornado(_simple(), metric="break_even_month", swing=0.2, top=5)
    assert list(t["spread"]) == sorted(t["spread"], reverse=True) and len(t) == 5
    price = t.set_index("driver").loc["subscription.price_per_seat_month"]
    assert price.low_input == pytest.approx(8) and price.high_input == pytest.approx(12)
    assert price.metric_low > price.base_metric == 9 > price.metric_high
    with pytest.raises(ValueError, match="Unknown metric"):
        tornado(_simple(), metric="vibes")


def test_monte_carlo_seeded_and_consistent():
    s = Scenario()
    a, b = monte_carlo(s, draws=2000, seed=7), monte_carlo(s, draws=2000, seed=7)
    np.testing.assert_array_equal(a.break_even_months, b.break_even_months)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.break_even_months, monte_carlo(s, draws=2000, seed=8).break_even_months)
    assert a.p10 <= a.p50 and (a.p90 is None or a.p50 <= a.p90)
    assert a.probability_within == pytest.approx((a.break_even_months <= 24).mean())
    json.dumps(a.summary())
    # Ranges of zero width: every draw is the base case (break-even month 9, by hand above).
    fixed = monte_carlo(_simple(), {"subscription.price_per_seat_month": (10, 10)}, draws=100, within_months=9)
    assert (fixed.break_even_months == 9).all() and fixed.p50 == 9 and fixed.probability_within == 1.0
    never = monte_carlo(_simple(), {"subscription.price_per_seat_month": (1, 2)}, draws=100)
    assert never.p50 is None and never.probability_never == 1.0 and (never.break_even_months == 37).all()
    with pytest.raises(ValueError, match="needs low <= high"):
        monte_carlo(s, {"subscription.churn_monthly": (0.1, 0.05)})
    with pytest.raises(ValueError, match="Unknown uncertain input"):
        monte_carlo(s, {"subscription.mood": (0, 1)})


def test_chance_of_breaking_even_within_n_months_never_counts_draws_that_never_break_even():
    never = {"subscription.price_per_seat_month": (1, 2)}  # no draw breaks even within the 36 months
    # N beyond the plan cannot be answered (draws that never break even are recorded as month 37): refused.
    for n in (37, 120):
        with pytest.raises(ValueError, match="from 1 to the plan's length"):
            monte_carlo(_simple(), never, draws=100, within_months=n)
    within_plan = monte_carlo(_simple(), never, draws=100, within_months=36)
    assert within_plan.probability_within == 0.0 and within_plan.probability_never == 1.0
    # A scenario's own N is capped at its plan length (a plan shortened after N was chosen).
    short = _simple().replace("months", 12)
    short.uncertainty.within_months = 24
    mc = scenario_monte_carlo(short, draws=200)
    assert mc.within_months == 12 and mc.months == 12
    assert mc.probability_within == pytest.approx((mc.break_even_months <= 12).mean())
    r = evaluate_scenario(short, monte_carlo_draws=200)
    assert "monte_carlo" not in r["errors"] and r["monte_carlo"].within_months == 12


def test_monte_carlo_10k_draws_under_a_second():
    start = time.perf_counter()
    monte_carlo(Scenario(), draws=10_000)
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------- one story: the P&L's costs everywhere


def test_unit_economics_and_summary_use_the_training_cost_the_pnl_deducts():
    s = Scenario()
    s.costs.training_one_off = 48_000.0
    estimate = scenario_training(s).cost_usd
    assert estimate != pytest.approx(48_000)  # the Training tab's estimate is another number
    r = evaluate_scenario(s)
    assert r["pnl"]["training"].iloc[0] == 48_000
    assert np.allclose(r["curve"]["training_amortised_usd"], 48_000 / 24)
    k = plan_figures(s)
    assert k["training_cost"] == 48_000 and k["training_estimate"] == pytest.approx(estimate)
    assert k["serving_cost_per_seat"] == s.subscription.serving_cost_per_seat_month
    assert k["serving_cost_per_million_tokens"] == s.api.serving_cost_per_million_tokens
    assert k["serving_estimate_per_million_output"] == pytest.approx(scenario_serving(s).usd_per_million_output_tokens)
    # Monte Carlo, market and margin are in too.
    last = r["pnl"].iloc[-1]
    assert k["gross_margin_last_month"] == pytest.approx(last.gross_profit / last.revenue)
    assert k["mc_p50"] is not None and k["som"] == pytest.approx(r["market"].som_usd)
    s.api.enabled = False
    assert plan_figures(s, monte_carlo=False)["serving_cost_per_million_tokens"] is None


def test_serving_estimate_of_a_scenario_is_at_its_target_utilisation():
    s = Scenario()
    est = scenario_serving(s)
    full = estimate_serving(
        s.serving.params, s.serving.gpu, utilisation=1.0, batch=s.serving.batch, context=s.serving.context
    )
    assert est.utilisation == s.serving.target_utilisation
    assert est.usd_per_million_output_tokens == pytest.approx(full.usd_per_million_output_tokens / 0.6)
    own = evaluate_scenario(s)["api_comparison"].set_index("model").loc["Self-hosted"]
    assert own["output_usd_per_1m"] == pytest.approx(est.usd_per_million_output_tokens)


def test_investor_summary_markdown_and_chart():
    pnl = monthly_pnl(_simple())
    frame = pd.DataFrame(
        {
            "month": pnl["month"],
            "revenue": pnl["revenue"],
            "costs": pnl["revenue"] - pnl["net"],
            "net": pnl["net"],
            "cumulative_cash": pnl["cash"],
        }
    )
    summary = Summary(
        "Plan",
        "Sub",
        [("Break-even", "month 9")],
        [("Team", "$1k")],
        frame,
        estimates=[("Training tab estimate", "$143")],
        break_even=9,
    )
    md = to_markdown(summary)
    assert "## Estimates (not in the P&L)" in md and "- Training tab estimate: $143" in md
    with_line, without = chart_png(summary), chart_png(dataclasses.replace(summary, break_even=None))
    assert with_line[:4] == b"\x89PNG" and with_line != without  # the break-even line is drawn


# ------------------------------------------------------------------ messages: stable codes, two languages


def _placeholders(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_engine_message_has_both_languages_with_the_same_placeholders():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "core"
    source = "".join(
        p.read_text(encoding="utf-8") for p in (root / "economics").glob("*.py") if p.name != "messages.py"
    )
    assert "raise ValueError(" not in source  # every engine error has a code
    used = set(re.findall(r'(?:InputError|Message)\(\s*"([a-z0-9_]+)"', source))
    assert len(used) > 50
    for code in used:
        en, zh = COST_STRINGS[f"calc.msg.{code}"]
        assert _placeholders(en) == _placeholders(zh), code
    for field in set(re.findall(r'what="([a-z_]+)"', source)) | set(re.findall(r', "([a-z_]+)"\)', source)):
        if f"calc.field.{field}" not in COST_STRINGS:
            continue  # not a field key (e.g. a choice list)
        assert all(COST_STRINGS[f"calc.field.{field}"])


def test_engine_errors_and_working_translate():
    with pytest.raises(InputError) as info:
        monthly_pnl(Scenario().replace("subscription.churn_monthly", 1.5))
    err = info.value
    assert isinstance(err, ValueError) and err.code == "share_0_1" and err.params == {"what": "seat_churn"}
    assert str(err) == "Seat churn must be between 0 and 1 (0% to 100%)"  # English for the CLI and logs
    assert localise(err, lambda k: translate(k, "zh-Hans")) == "席位流失率必须在 0 到 1 之间（0% 到 100%）"
    assert "流失率" in localise(err, lambda k: translate(k, "zh-Hant"))
    import pickle

    assert pickle.loads(pickle.dumps(err)).code == "share_0_1"
    est = estimate_serving(8e9, "H100-SXM", usd_per_gpu_hour=2.0, utilisation=0.5)
    assert all(isinstance(line, Message) for line in est.explanation)
    assert est.explanation[0].startswith("Memory: weights 16.0 GB")
    zh = [localise(line, lambda k: translate(k, "zh-Hans")) for line in est.explanation]
    assert zh[0].startswith("显存：权重 16.0 GB") and "受显存带宽限制" in zh[1] and "利用率 50%" in zh[-1]
    json.dumps(est.to_dict())  # still plain strings to JSON
    steps = market_sizing(1000, 10_000, 0.5, 0.1).steps
    assert localise(steps[0]["formula"], lambda k: translate(k, "zh-Hans")).startswith("TAM = 1,000 家企业")
    assert localise("plain text", lambda k: translate(k, "zh-Hans")) == "plain text"


def test_non_finite_gpu_price_is_named_as_such():
    for rate in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="price per GPU-hour must be a finite number"):
            estimate_training(7e9, 1e12, "H100", usd_per_gpu_hour=rate)
        with pytest.raises(ValueError, match="price per GPU-hour must be a finite number"):
            estimate_serving(8e9, "H100", usd_per_gpu_hour=rate)


# ------------------------------------------------------------------------------------ price war, market


def test_price_war_by_hand():
    kw = dict(elasticity=2.0, market_size=1000, base_share=0.2, unit_cost=2.0, months=4)
    cut = CompetitorCut(cut_pct=0.5, month=2)  # competitor 10 -> 5 from month 2
    hold = simulate_price_war(10, cut, response="hold", **kw)
    # Month 2: odds 0.25 x ((10/5) / (10/10))^-2 = 0.0625 -> share 0.0588; volume 58.8; margin 58.8 x 8
    assert hold.share.iloc[0] == pytest.approx(0.2) and hold.share.iloc[1] == pytest.approx(0.0625 / 1.0625)
    assert hold.margin.iloc[1] == pytest.approx(1000 * 0.0625 / 1.0625 * 8)
    match = simulate_price_war(10, cut, response="match", **kw)
    # We react a month later: month 2 still 10, month 3 at 5 -> share back to 0.2, margin 200 x 3
    assert list(match.our_price) == [10, 10, 5, 5] and match.margin.iloc[2] == pytest.approx(600)
    under = simulate_price_war(10, cut, response="undercut", undercut_pct=0.1, **kw)
    # 4.5 vs 5: odds 0.25 x 0.9^-2 = 0.30864 -> share 0.23585
    assert under.our_price.iloc[2] == pytest.approx(4.5) and under.share.iloc[2] == pytest.approx(
        0.30864 / 1.30864, rel=1e-4
    )
    floored = simulate_price_war(10, cut, response="match", **{**kw, "unit_cost": 6.0})
    assert floored.our_price.min() == 6.0  # never below unit cost
    steady = simulate_price_war(10, [10.0], response="hold", **kw)
    assert np.allclose(steady.share, 0.2) and np.allclose(steady.revenue, 2000)
    grows = simulate_price_war(10, cut, response="match", **{**kw, "market_elasticity": 1.0})
    assert grows.market_volume.iloc[-1] > 1000


def test_compare_responses_and_errors():
    paths = compare_responses(2.0, {"cut_pct": 0.3, "month": 3}, 2.0, 10_000, 0.2, 0.5, months=12)
    assert set(paths["response"]) == {"hold", "match", "undercut"} and len(paths) == 36
    summary = summarise_responses(paths).set_index("response")
    assert summary.loc["hold", "final_price"] == 2.0 and summary.loc["match", "final_price"] == pytest.approx(1.4)
    assert (
        summary.loc["undercut", "final_share"]
        > summary.loc["match", "final_share"]
        > summary.loc["hold", "final_share"]
    )
    with pytest.raises(ValueError, match="Unknown response"):
        simulate_price_war(2.0, [1.0], response="surrender")
    with pytest.raises(ValueError, match="share must be between 0 and 1"):
        simulate_price_war(2.0, [1.0], base_share=1.2)


def test_market_sizing_by_hand():
    m = market_sizing(1000, 10_000, 0.5, 0.1)
    # TAM 1,000 x $10k = $10M; SAM x 50% = $5M; SOM x 10% = $500k (50 customers)
    assert (m.tam_usd, m.sam_usd, m.som_usd, m.som_customers) == pytest.approx((1e7, 5e6, 5e5, 50))
    assert [s["step"] for s in m.steps] == ["TAM", "SAM", "SOM"] and "$10.00M" in m.steps[0]["formula"]
    with pytest.raises(ValueError, match="obtainable share must be between 0 and 1"):
        market_sizing(1000, 10_000, 0.5, 1.5)


# ------------------------------------------------------------------------------------------------ CLI


def run(capsys, *argv):
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "text, value",
    [("7e9", 7e9), ("7B", 7e9), ("70b", 70e9), ("2T", 2e12), ("1.5M", 1.5e6), ("500k", 5e5), ("1,000", 1000)],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == pytest.approx(value)


def test_cli_cost_train(capsys):
    code, out = run(
        capsys,
        "cost",
        "train",
        "--params",
        "7B",
        "--tokens",
        "2T",
        "--gpu",
        "a100-80gb",
        "--gpus",
        "1024",
        "--usd-per-gpu-hour",
        "2",
        "--json",
    )
    assert code == 0 and {"flops", "gpu_hours", "wall_days", "cost_usd", "mfu"} <= set(out)
    assert out["flops"] == pytest.approx(8.4e22) and out["gpu_hours"] == pytest.approx(186_965.8, rel=1e-6)
    assert out["mfu"] == 0.4 and out["cost_usd"] == pytest.approx(373_931.6, rel=1e-6)


# An 8B model with its attention shape spelled out, on one H100 at $2 an hour.
SERVE_8B = (
    "cost",
    "serve",
    "--params",
    "8B",
    "--gpu",
    "H100-SXM",
    "--layers",
    "32",
    "--kv-heads",
    "8",
    "--head-dim",
    "128",
    "--usd-per-gpu-hour",
    "2",
)


def test_cli_cost_serve(capsys):
    code, out = run(capsys, *SERVE_8B, "--utilisation", "1", "--json")
    assert code == 0
    assert {"weights_gb", "kv_cache_gb", "fits", "gpus_needed", "decode_tok_s", "usd_per_million_output_tokens"} <= set(
        out
    )
    assert out["weights_gb"] == pytest.approx(16) and out["fits"] is True
    assert out["usd_per_million_output_tokens"] == pytest.approx(3.918, rel=1e-3) and out["utilisation"] == 1.0
    # Without --utilisation: the calculator page's default (60% busy), so the same $ per 1M tokens as the page.
    code, out = run(capsys, *SERVE_8B, "--json")
    assert code == 0 and out["utilisation"] == 0.6
    assert out["usd_per_million_output_tokens"] == pytest.approx(3.918 / 0.6, rel=1e-3)
    code, out = run(capsys, "cost", "serve", "--params", "70b", "--gpu", "L4", "--precision", "int4", "--json")
    assert code == 0 and out["fits"] is False and out["gpus_needed"] >= 2


def test_cli_cost_gpus(capsys):
    code, out = run(capsys, "cost", "gpus", "--json")
    assert code == 0 and {"A100-80GB", "H100-SXM", "H200", "H800", "L4", "A10G", "T4", "RTX-4090", "V100"} <= set(
        out["names"]
    )
    assert all(g["spec_source"] and g["price_source"] for g in out["gpus"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--params", "7B", "--tokens", "2T", "--gpu", "H100", "--mfu", "1.2"], "MFU must be more than 0"),
        (["train", "--params", "7B", "--tokens", "2T", "--gpu", "H100", "--gpus", "0"], "at least 1"),
        (["train", "--params", "lots", "--tokens", "2T", "--gpu", "H100"], "Not a number: 'lots'"),
        (["serve", "--params", "8B", "--gpu", "TPUv9"], "Unknown GPU 'TPUv9'"),
    ],
)
def test_cli_cost_errors_are_json_with_status_2(capsys, argv, message):
    code, out = run(capsys, "cost", *argv, "--json")
    assert code == 2 and message in out["error"]


def test_nothing_returns_nan_or_inf():
    r = evaluate_scenario(Scenario())
    for key in ("training", "serving", "plan"):
        for k, v in dataclasses.asdict(r[key]).items():
            assert not (isinstance(v, float) and not math.isfinite(v)), (key, k)
    for key in ("pnl", "curve", "price_war", "tornado"):
        numbers = r[key].select_dtypes("number")
        assert np.isfinite(numbers.to_numpy(dtype=float)).all(), key
    assert isinstance(r["pnl"], pd.DataFrame)

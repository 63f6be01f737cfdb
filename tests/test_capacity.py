"""Capacity (queueing against known results, the simulation, machines for a target), cost per
resolved conversation, per-resolution pricing in the P&L and the price war, falling prices."""

import math
import time

import numpy as np
import pytest

from core import economics as eco
from core.economics.capacity import queue_state, wait_quantile
from core.economics.capacity_sim import simulate
from core.economics.resolution import DRIVERS as RESOLUTION_DRIVERS
from core.economics.summary import plan_figures


def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    """(P(wait), mean wait) of M/M/c, the textbook closed form."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


def linear(c: int, per_slot: float = 10.0) -> eco.Machine:
    """Slots that add throughput linearly (alpha = 0) and answers with no prompt: M/M/c servers."""
    return eco.Machine("linear", prefill_tok_s=100.0, decode_tok_s=per_slot, slots=c, slot_scaling=0.0)


def flat(**kw) -> eco.Traffic:
    base = dict(daily_curve="flat", prompt_tokens=0.0, output_tokens=10.0, overhead_s=0.0, service_cv=1.0)
    return eco.Traffic(**(base | kw))


@pytest.mark.parametrize("c", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95])
def test_mmc_wait_matches_erlang_c(c, rho):
    mu = 0.7
    lam = rho * c * mu
    state = queue_state([lam], mu * np.arange(1, c + 1), cv=1.0)
    p_wait, mean_wait = erlang_c(c, lam, mu)
    assert state["p_wait"][0] == pytest.approx(p_wait, rel=1e-9)
    assert state["mean_wait"][0] == pytest.approx(mean_wait, rel=1e-9)
    # P(W > t) = C exp(-(c mu - lambda) t): the 90th percentile
    t90 = float(wait_quantile(0.9, state["p_wait"], state["decay"])[0])
    expected = max(0.0, math.log(p_wait / 0.1) / (c * mu - lam))
    assert t90 == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # Little's law: L = lambda x (Wq + 1 / mu)
    assert state["in_system"][0] == pytest.approx(lam * (mean_wait + 1 / mu), rel=1e-9)


def test_mm1_and_md1_closed_forms():
    lam, mu = 0.6, 1.0
    state = queue_state([lam], np.array([mu]))
    assert state["mean_wait"][0] == pytest.approx(lam / (mu * (mu - lam)))
    assert state["in_system"][0] == pytest.approx(lam / (mu - lam))
    # M/D/1 (Pollaczek-Khinchine): half the M/M/1 wait; Allen-Cunneen is exact for one server
    assert queue_state([lam], np.array([mu]), cv=0.0)["mean_wait"][0] == pytest.approx(lam / (2 * mu * (mu - lam)))


def test_machine_service_rate_depends_on_concurrency():
    m = eco.Machine("cpu", prefill_tok_s=100.0, decode_tok_s=26.6, slots=4, slot_scaling=0.72)
    mu = m.service_rates(0.0, 100.0) * 100.0  # tokens per second, all answers together
    assert mu[0] == pytest.approx(26.6)
    assert mu[3] == pytest.approx(33.6, rel=0.01)  # measured here: 4 streams at once, 33.6 tok/s together
    assert np.all(np.diff(mu) > 0) and mu[3] < 4 * mu[0]
    assert np.all(np.diff(m.prefill_s(700, [1, 2, 3])) > 0)
    with pytest.raises(ValueError, match="Slots"):
        eco.Machine("x", 100.0, 10.0, 0).validate()


def test_simulation_matches_the_exact_chain_and_littles_law():
    machine = eco.Machine("cpu", prefill_tok_s=100.0, decode_tok_s=15.0, slots=2, slot_scaling=0.72)
    mu_c = machine.service_rates(750, 110)[-1]
    per_day = 0.75 * mu_c * 86_400 / 1.5  # 75% of capacity, all questions written
    traffic = eco.Traffic(per_day, 1.5, "flat", 0.0, 1.0, 750, 110, overhead_s=0.0, service_cv=1.0)
    sim = simulate(machine, traffic, days=40, seed=1)
    exact = eco.latency(machine, traffic, traffic.written_per_second()[0])[0]
    assert sim.answers > 5_000
    assert sim.wait_mean_s == pytest.approx(exact.mean_wait_s, rel=0.12)
    assert sim.in_system_mean == pytest.approx(exact.in_system, rel=0.12)
    # Little's law inside the simulation: time-average number present = arrival rate x time in system
    assert sim.in_system_mean == pytest.approx(sim.arrivals_per_s * sim.response_mean_s, rel=0.01)


def test_md1_simulation_agrees_with_pollaczek_khinchine():
    traffic = flat(conversations_per_day=0.7 * 86_400, questions_per_conversation=1.0, tier1_share=0.0,
                   tier2_share=1.0, service_cv=0.0)  # fmt: skip
    sim = simulate(linear(1), traffic, days=1, seed=3)  # mu = 1 a second, 60,000 answers
    assert sim.wait_mean_s == pytest.approx(0.7 / (2 * 0.3), rel=0.06)


def test_a_month_of_traffic_simulates_within_a_second():
    traffic = eco.Traffic(conversations_per_day=2_000)  # ~25,000 written answers a month, office hours
    start = time.perf_counter()
    sim = simulate(eco.this_machine(), traffic, days=30, machines=eco.machines_needed(eco.this_machine(), traffic, 15))
    elapsed = time.perf_counter() - start
    assert sim.answers > 3_000
    assert elapsed < 3.0, elapsed  # target 1 s; headroom for a busy shared machine


def test_machines_needed_meets_the_target_and_no_fewer_do():
    machine, traffic = eco.this_machine(), eco.Traffic(conversations_per_day=3_000)
    m = eco.machines_needed(machine, traffic, 15.0)
    peak = traffic.written_per_second().max()
    assert eco.latency(machine, traffic, peak / m)[0].first_word_p90_s <= 15.0
    assert m == 1 or eco.latency(machine, traffic, peak / (m - 1))[0].first_word_p90_s > 15.0
    assert eco.machines_needed(machine, eco.Traffic(conversations_per_day=6_000), 15.0) > m
    with pytest.raises(ValueError, match="idle machine"):
        eco.machines_needed(machine, traffic, 1.0)


def test_capacity_plan_day_and_cost():
    plan = eco.capacity_plan(eco.this_machine(usd_per_hour=0.1), eco.Traffic(), 15.0)
    assert plan.machines >= 1 and plan.peak_hour == 10  # the office curve's busiest hour
    assert len(plan.hourly) == 24 and plan.peak["stable"]
    assert plan.day["first_word_p50_s"] <= plan.day["first_word_p90_s"] <= plan.peak["first_word_p90_s"] + 1e-6
    # curated answers (0.51 s) are half the questions: the median customer gets one
    assert plan.all_tiers["first_word_p50_s"] == pytest.approx(0.51, abs=0.01)
    assert plan.monthly_cost_usd == pytest.approx(plan.machines * 0.1 * 730)
    assert plan.cost_per_conversation_usd == pytest.approx(plan.monthly_cost_usd / (500 * 365 / 12))
    assert math.isfinite(plan.day["answer_p90_s"])


def test_latency_curve_rises_and_marks_a_knee():
    curve = eco.latency_curve(eco.this_machine(), eco.Traffic())
    p90 = np.array(curve["first_word_p90_s"])
    assert np.all(np.diff(p90) >= -1e-9) and p90[-1] > 3 * p90[0]
    assert 0 < curve["knee_index"] < len(p90) - 1
    assert 0.5 < curve["knee_utilisation"] < 0.95


def test_closed_loop_clients():
    m = eco.Machine("cpu", prefill_tok_s=100.0, decode_tok_s=15.0, slots=2, slot_scaling=0.72)
    mu = m.service_rates(700, 100)
    one = eco.closed_loop(m, 700, 100, 1)
    assert one["throughput_per_s"] == pytest.approx(mu[0]) and one["mean_latency_s"] == pytest.approx(1 / mu[0])
    four = eco.closed_loop(m, 700, 100, 4)  # 2 in service, 2 waiting
    assert four["throughput_per_s"] == pytest.approx(mu[1]) and four["mean_latency_s"] == pytest.approx(4 / mu[1])
    thinking = eco.closed_loop(m, 700, 100, 4, think_s=20.0)
    assert thinking["throughput_per_s"] < min(4 / (20 + 1 / mu[0]), mu[1]) + 1e-9


def test_machines_from_the_benchmark_and_the_catalogue():
    bench = {"engine": "llamacpp", "decode_tok_s": 14.6, "long_prompt_tokens": 203, "long_prompt_ttft_ms": 1090,
             "parallel": 2}  # fmt: skip
    m = eco.machine_from_bench(bench)
    assert m.prefill_tok_s == pytest.approx(186.2, rel=0.01) and m.slots == 2
    with pytest.raises(ValueError, match="bench generate"):
        eco.machine_from_bench({"decode_tok_s": 1})
    gpu = eco.gpu_machine("H100", 8e9, 32)
    assert gpu.slot_scaling < 0.1  # memory-bound: slots are nearly free on a GPU
    assert gpu.usd_per_hour and gpu.prefill_tok_s > 10_000
    assert eco.machines_needed(gpu, eco.Traffic(conversations_per_day=100_000), 5.0) >= 1


def test_input_errors_name_the_field():
    with pytest.raises(ValueError, match="more than 100%"):
        eco.Traffic(tier1_share=0.7, tier2_share=0.5).validate()
    with pytest.raises(ValueError, match="daily curve"):
        eco.Traffic(daily_curve="night").validate()
    with pytest.raises(ValueError, match="Conversations per day cannot be negative"):
        eco.Traffic(conversations_per_day=-1).validate()


# -------------------------------------------------------------------- cost per resolved conversation

README_RATES = eco.Outcomes(0.833, 0.083, 0.083)


def test_cost_per_resolved_conversation():
    c = eco.cost_per_resolved(0.05, README_RATES, person_cost=5.0, wrong_cost=10.0)
    assert c.per_conversation == pytest.approx(0.05 + 0.083 * 5 + 0.083 * 10)
    assert c.per_resolved == pytest.approx(c.per_conversation / 0.833)
    with pytest.raises(ValueError, match="100%"):
        eco.cost_per_resolved(0.05, eco.Outcomes(0.9, 0.2, 0.1), 5, 10)


def test_per_resolution_services_and_apis_compared():
    table = eco.compare_resolution(0.02, README_RATES, 5.0, 10.0, 0.6, 750, 110)
    assert list(table["per_resolved"]) == sorted(table["per_resolved"])
    fin = table[table["option"].str.startswith("Intercom Fin")].iloc[0]
    assert fin["ai_cost"] == pytest.approx(0.99 * (0.833 + 0.083))  # assumed resolutions billed too
    assert fin["source_date"] == "2023-11-15"
    assert set(table["kind"]) == {"self", "service", "api"}
    assert table.iloc[0]["per_resolved"] < fin["per_resolved"]
    prices = eco.load_resolution_prices()
    assert {"source", "source_date", "usd"} <= set(prices.columns) and prices["source_date"].notna().all()


def test_resolution_tornado_and_monte_carlo():
    t = eco.resolution_tornado(0.02, README_RATES, 5.0, 10.0, swing=0.2)
    assert set(t["driver"]) == set(RESOLUTION_DRIVERS)
    assert t.iloc[0]["driver"] in {"right_rate", "wrong_cost", "wrong_rate"}
    mc = eco.resolution_monte_carlo(0.02, README_RATES, 5.0, 10.0, draws=5000, seed=1, compare_with=2.0)
    assert mc["p10"] < mc["p50"] < mc["p90"] and 0 <= mc["p_cheaper"] <= 1
    assert mc == eco.resolution_monte_carlo(0.02, README_RATES, 5.0, 10.0, draws=5000, seed=1, compare_with=2.0)


def test_scenario_capacity_and_resolution():
    s = eco.Scenario()
    plan = eco.scenario_capacity(s)
    res = eco.scenario_resolution(s, plan)
    assert res["cost"].serving == pytest.approx(plan.cost_per_conversation_usd)
    assert res["monte_carlo"]["p_cheaper"] is not None
    gpu = eco.scenario_capacity(s.replace("capacity.machine", "H100-SXM").replace("capacity.slots", 16))
    assert gpu.machine["source"] == "roofline"
    figures = plan_figures(s, monte_carlo=False)  # the investor summary
    assert figures["capacity_machines"] == plan.machines
    assert figures["cost_per_resolved"] == pytest.approx(res["cost"].per_resolved)
    assert figures["service_name"].startswith("Intercom Fin") and figures["service_per_resolved"] > 0
    out = eco.evaluate_scenario(s)
    assert out["capacity"] is not None and out["resolution"] is not None and not out["errors"]


# ---------------------------------------------------------- per-resolution pricing, falling prices


def resolution_scenario(**trend) -> eco.Scenario:
    s = eco.Scenario().replace("resolution.enabled", True)
    for k, v in trend.items():
        s = s.replace(f"trend.{k}", v)
    return s


def test_per_resolution_revenue_in_the_pnl():
    s = resolution_scenario()
    r = s.resolution
    pnl = eco.monthly_pnl(s)
    first = pnl.iloc[0]
    assert first["resolutions"] == pytest.approx(r.customers_start * r.conversations_per_customer_month * 0.833)
    assert first["revenue_resolution"] == pytest.approx(first["resolutions"] * 0.99)
    off = eco.monthly_pnl(eco.Scenario())
    assert (off["revenue_resolution"] == 0).all()
    assert eco.break_even_month(off) == 25  # the defaults' plan is unchanged


def test_prices_falling_over_time():
    s = resolution_scenario(price_decline_yearly=0.9)
    pnl, flat_pnl = eco.monthly_pnl(s), eco.monthly_pnl(resolution_scenario())
    ratio = pnl["revenue_resolution"] / flat_pnl["revenue_resolution"]
    assert ratio.iloc[12] == pytest.approx(0.1)  # a year on: a tenth of the price (LLMflation)
    assert (pnl["revenue_subscription"] == flat_pnl["revenue_subscription"]).all()
    with pytest.raises(ValueError, match="less than 100%"):
        eco.monthly_pnl(resolution_scenario(price_decline_yearly=1.0))
    assert eco.declined(0.99, 0.9, 24) == pytest.approx(0.0099)


def test_vectorised_pnl_matches_with_resolutions_and_trends():
    s = resolution_scenario(price_decline_yearly=0.5, cost_decline_yearly=0.3)
    pnl = eco.monthly_pnl(s)
    arrays = eco.pnl_arrays(s)
    for column in ("revenue", "net", "cash"):
        assert np.allclose(arrays[column][0], pnl[column].to_numpy(dtype=float))


def test_tornado_and_monte_carlo_include_the_new_drivers():
    s = resolution_scenario(price_decline_yearly=0.5)
    drivers = set(eco.tornado(s, top=100)["driver"])
    assert {"resolution.price_per_resolution", "resolution.resolution_rate", "trend.price_decline_yearly"} <= drivers
    ranges = eco.default_ranges(s)
    assert ranges["trend.price_decline_yearly"][1] < 1
    assert eco.monte_carlo(s, ranges, draws=500).draws == 500


def test_price_war_with_falling_prices():
    cut = eco.CompetitorCut(cut_pct=0.0, month=1, start_price=0.99, decline_yearly=0.9)
    path = cut.path(25, 0.99)
    assert path[12] == pytest.approx(0.099) and path[24] == pytest.approx(0.0099)
    war = eco.simulate_price_war(0.99, cut, response="match", unit_cost=0.05, months=24)
    assert war["our_price"].iloc[-1] == pytest.approx(0.05)  # matched down to our unit cost


def test_load_check_levels_with_a_fake_engine():
    """The check's load loop: closed-loop clients, answers counted, one past the hard deadline left out."""
    import random
    import threading

    from core.cli.capacity_check import run_level

    class Stats:
        prompt_tokens, cached_tokens, new_tokens, ttft_ms, decode_tok_s = 600, 0, 80, 100.0, 20.0
        stopped = False

    class Gen:
        def __init__(self, slow: bool):
            self.stats, self.slow, self.cancelled = Stats(), slow, threading.Event()

        def __iter__(self):
            yield "a"
            if self.cancelled.wait(5.0 if self.slow else 0.05):
                self.stats.stopped = True
            yield "b"

        def cancel(self):
            self.cancelled.set()

    class Engine:
        calls = 0

        def stream(self, messages, options):
            Engine.calls += 1
            assert messages[0]["content"].startswith("Ticket ")
            return Gen(slow=Engine.calls > 3)

    level = run_level(Engine(), 2, 0.3, None, random.Random(0), first_id=1)
    assert level["requests"] == 3 and level["clients"] == 2  # the slow ones were cancelled at 0.9 s
    assert level["measured_p50_s"] == pytest.approx(0.05, abs=0.05) and level["new_tokens"] == 80


def test_a_short_load_test_from_idle_and_its_steady_state():
    from core.economics.capacity_sim import simulate_closed

    m = eco.Machine("cpu", prefill_tok_s=21.0, decode_tok_s=6.8, slots=2, slot_scaling=0.72)
    steady = eco.closed_loop(m, 370, 48, 4)
    long = simulate_closed(m, 370, 48, 4, seconds=50_000)
    assert long["throughput_per_s"] == pytest.approx(steady["throughput_per_s"], rel=1e-3)
    assert long["p50_s"] == pytest.approx(steady["mean_latency_s"], rel=1e-3)
    # 45 s from idle: the first two answers never wait, so the median is below the steady state's
    short = simulate_closed(m, 370, 48, 4, seconds=45)
    assert short["requests"] == 4 and short["p50_s"] < 0.8 * steady["mean_latency_s"]
    assert simulate_closed(m, 370, 48, 1, seconds=45)["p50_s"] == pytest.approx(
        eco.closed_loop(m, 370, 48, 1)["mean_latency_s"]
    )

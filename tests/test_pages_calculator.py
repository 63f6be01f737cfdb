"""AppTest: the Cost & market calculator, every tab, scenarios and exports."""

import math
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.storage.scenarios import ScenarioStore

ROOT = Path(__file__).resolve().parent.parent
PAGE, APP = str(ROOT / "pages" / "calculator.py"), str(ROOT / "app.py")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def number(at, key: str):
    return at.number_input(key=f"calc:{key}")


def assert_clean(at):
    assert not at.exception, [e.message for e in at.exception]
    for value in metrics(at).values():
        assert "nan" not in str(value).lower() and "inf" not in str(value).lower()


def test_every_tab_renders_with_numbers():
    at = page()
    assert_clean(at)
    assert [t.label for t in at.tabs] == [
        "Training",
        "Serving",
        "Unit economics",
        "Capacity",
        "Business model",
        "Price war",
        "Market size",
        "Risk",
        "Compare & export",
        "Calibration",
    ]
    m = metrics(at)
    for label in (
        "Compute (FLOPs)",
        "GPU memory",
        "Serving cost per user",
        "Break-even",
        "TAM",
        "P50",
        "Hold our price",
    ):
        assert label in m, label
    assert m["Break-even"].startswith("month ")
    assert not at.error


def test_chinese_labels():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["language"] = "简体中文"
    at.switch_page("pages/calculator.py").run()
    assert_clean(at)
    assert at.title[0].value == "成本与市场测算"
    assert "盈亏平衡" in metrics(at)


def test_input_change_moves_break_even_and_rerenders_fast():
    at = page()
    before = metrics(at)["Break-even"]
    number(at, "subscription.price_per_seat_month").set_value(60.0)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    assert_clean(at)
    after = metrics(at)["Break-even"]
    assert int(after.split()[-1]) < int(before.split()[-1])
    assert elapsed < 5  # generous for CI; the ≤ 200 ms target is measured in bench/economics.py


def test_model_that_does_not_fit_is_explained_not_an_error():
    at = page()
    number(at, "serving.params").set_value(400.0).run()  # 400B in bf16 on one 80 GB GPU
    assert_clean(at)
    assert int(metrics(at)["GPUs per copy"]) > 1
    assert any("does not fit" in w.value for w in at.warning)


def test_impossible_business_inputs_get_a_message():
    at = page()
    number(at, "subscription.churn_monthly").set_value(100.0)  # everyone leaves every month: still valid
    number(at, "costs.starting_cash").set_value(0.0).run()
    assert_clean(at)
    assert any("Cash runs out" in e.value for e in at.error)


def test_save_change_load_compare_and_export(settings):
    at = page()
    at.text_input(key="calc.save_name").set_value("Base case")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert ScenarioStore(settings.db_path).names() == ["Base case"]
    saved = ScenarioStore(settings.db_path).load("Base case")
    assert saved["subscription"]["price_per_seat_month"] == 30.0
    number(at, "subscription.price_per_seat_month").set_value(45.0).run()
    at.button[[b.label for b in at.button].index("Load")].click().run()
    assert number(at, "subscription.price_per_seat_month").value == 30.0
    assert_clean(at)
    compare = at.multiselect(key="calc.compare")
    assert "Base case" in compare.options
    labels = [d.label for d in at.get("download_button")]
    assert {"Download P&L (CSV)", "Download comparison (Excel)", "Download summary (Markdown)"} <= set(labels)


def test_damaged_saved_scenario_is_reported_not_loaded(settings):
    ScenarioStore(settings.db_path).save("Broken", {"subscription": {"price_per_seat_month": "thirty"}})
    at = page()
    before = number(at, "subscription.price_per_seat_month").value
    at.button[[b.label for b in at.button].index("Load")].click().run()
    assert_clean(at)
    assert any("price_per_seat_month" in e.value for e in at.sidebar.error)
    assert number(at, "subscription.price_per_seat_month").value == before


def test_calibration_table_lists_published_runs():
    at = page()
    frames = [df.value for df in at.dataframe]
    calibration = next(f for f in frames if "Implied MFU" in f.columns)
    assert {"Llama 2 7B", "GPT-3 175B"} <= set(calibration["Model"])
    assert all(0 < v < 1 for v in calibration["Implied MFU"]) and not any(map(math.isnan, calibration["Implied MFU"]))


@pytest.mark.parametrize("toggle", ["subscription.enabled", "api.enabled", "services.enabled"])
def test_switching_streams_off_keeps_working(toggle):
    at = page()
    at.toggle(key=f"calc:{toggle}").set_value(False).run()
    assert_clean(at)


def summary_markdown(at) -> str:
    return next(m.value for m in at.markdown if "## " in m.value and "AI business plan" in m.value)


def pnl_frame(at, seats_label: str = "Seats"):
    return next(df.value for df in at.dataframe if seats_label in df.value.columns)


def test_every_input_has_help_text():
    at = page()
    at.toggle(key="calc:training.owned").set_value(True).run()  # shows the owned-hardware inputs too
    assert_clean(at)
    widgets = [
        w
        for kind in ("number_input", "selectbox", "slider", "toggle", "radio", "multiselect")
        for w in getattr(at, kind)
        if w.key and w.key.startswith("calc")
    ]
    assert len(widgets) > 60
    assert [w.key for w in widgets if not w.help] == []
    helps = {w.key: w.help for w in widgets}
    # Illustrative business defaults say so; a source is named where there is one.
    for path in (
        "costs.team_monthly",
        "subscription.seats_start",
        "subscription.churn_monthly",
        "price_war.elasticity",
        "serving.target_utilisation",
        "serving.batch",
    ):
        assert "illustrative" in helps[f"calc:{path}"], path
    assert "50% of peak compute" in helps["calc:serving.batch"] and "Databricks" in helps["calc:serving.batch"]
    assert (
        "Epoch AI" in helps["calc:training.gpu"]
        and "Microsoft 365 Copilot" in helps["calc:subscription.price_per_seat_month"]
    )
    assert "(%)" in number(at, "subscription.growth_monthly").label
    assert number(at, "subscription.growth_monthly").label.count("%") == 1


def test_training_cost_one_story_from_training_tab_to_pnl_and_summary():
    from core import economics as eco

    at = page()
    number(at, "costs.training_one_off").set_value(123456.0).run()
    md = summary_markdown(at)
    # The summary reports what the P&L deducts, and labels the Training tab's figure as an estimate.
    assert "- **Training cost (in the P&L, month 1):** \\$123.46k" in md
    estimates = md.split("## Estimates (not in the P&L)")[1].split("##")[0]
    estimate = eco.scenario_training(eco.Scenario()).cost_usd
    assert f"Training tab estimate (in the P&L only if copied there): \\${estimate:,.2f}" in estimates
    assert pnl_frame(at)["Training"].iloc[0] == 123456.0
    # The Training tab's button copies its estimate into the business model, as Unit economics does.
    button = next(b for b in at.button if b.label.startswith("Use ") and "training cost" in b.label)
    button.click().run()
    assert_clean(at)
    assert number(at, "costs.training_one_off").value == pytest.approx(round(estimate, 4))
    assert f"- **Training cost (in the P&L, month 1):** \\${estimate:,.2f}" in summary_markdown(at)
    assert pnl_frame(at)["Training"].iloc[0] == pytest.approx(estimate, abs=1e-3)
    # The rest of the one page: Monte Carlo, market size and margin.
    md = summary_markdown(at)
    for label in ("(P50)", "P(break-even ≤ 24 months)", "TAM (per year)", "SOM (per year)", "Gross margin, last month"):
        assert label in md, label


def test_within_n_months_is_capped_at_the_plan_length():
    at = page()
    number(at, "months").set_value(12).run()
    assert_clean(at)
    within = number(at, "uncertainty.within_months")
    assert within.value == 12 and within.max == 12
    assert "P(break-even ≤ 12 months)" in metrics(at) and not at.error


def test_pnl_table_reads_like_finance():
    at = page()
    pnl = pnl_frame(at)
    assert "gross_margin" not in pnl.columns and "Gross margin" in pnl.columns and "Cumulative net" in pnl.columns
    assert pnl["Seats"].dtype.kind == "i" and pnl["API customers"].dtype.kind == "i"
    assert all(v.endswith("%") for v in pnl["Gross margin"])
    for toggle in ("subscription.enabled", "api.enabled", "services.enabled"):
        at.toggle(key=f"calc:{toggle}").set_value(False)
    at.run()
    assert_clean(at)
    assert set(pnl_frame(at)["Gross margin"]) == {"—"}  # no revenue, no margin: never "None"


def test_chinese_ui_translates_engine_text():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["language"] = "简体中文"
    at.switch_page("pages/calculator.py").run()
    assert_clean(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "显存：权重" in text and "受显存带宽限制" in text  # the serving working
    assert "TAM = 200,000 家企业" in text and "SOM = SAM" in text  # the market formulas
    assert "Memory: weights" not in text and "companies x" not in text
    pnl = pnl_frame(at, "席位数")
    assert "毛利率" in pnl.columns and "seats" not in pnl.columns
    at.number_input(key="calc:serving.layers").set_value(32).run()  # layers without KV heads: an engine error
    assert any("层数、KV 头数和头维度要么全部填写" in e.value for e in at.error)
    assert not any("Give all three" in e.value for e in at.error)
    at.selectbox(key="calc:training.gpu").set_value("B200").run()  # no catalogue price: a note
    assert any("目录中没有 B200 的按需价格" in w.value for w in at.warning)


def test_compare_keeps_current_inputs_apart_from_saved_scenarios(settings):
    from core.storage.db import connect

    store = ScenarioStore(settings.db_path)
    store.save("Plan A/B", {"subscription": {"price_per_seat_month": 45.0}})
    with connect(settings.db_path) as conn:  # saved before the name was reserved
        conn.execute(
            "INSERT INTO scenarios (name, inputs, updated_at) VALUES (?, ?, ?)",
            ("Current inputs", '{"subscription": {"price_per_seat_month": 60.0}}', time.time() + 1),
        )
    at = page()
    assert_clean(at)
    table = next(df.value for df in at.dataframe if "Scenario" in df.value.columns)
    assert list(table["Scenario"]) == ["Current inputs", "Current inputs (saved)", "Plan A/B"]
    assert table["Break-even"].nunique() == 3  # three different scenarios, none hidden
    # New scenarios cannot take the labels the page uses.
    at.text_input(key="calc.save_name").set_value("Comparison")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert any("Comparison" in e.value and "choose another name" in e.value for e in at.sidebar.error)
    assert "Comparison" not in store.names()


def test_capacity_tab_sizes_machines_and_prices_a_resolved_conversation():
    at = page()
    assert_clean(at)
    m = metrics(at)
    assert m["Machines for the target"].startswith("1 × This machine")
    assert m["Per resolved conversation"].startswith("$")
    table = next(df.value for df in at.dataframe if "Per resolved conversation" in df.value.columns)
    options = " ".join(table["Option"])
    assert "Intercom Fin AI Agent ($0.99 / resolution)" in options and "Self-hosted" in options
    assert "2023-11-15" in set(table["Price date"])
    md = summary_markdown(at)  # the investor summary names the same figures, as estimates
    assert "Capacity tab: machines for the p90 target: 1 × this machine" in md
    assert "Capacity tab: cost per resolved conversation" in md and "Intercom Fin" in md
    number(at, "capacity.conversations_per_day").set_value(20_000.0).run()
    assert_clean(at)
    assert int(metrics(at)["Machines for the target"].split(" ")[0]) > 1
    # a GPU from the catalogue instead of this machine
    at.selectbox(key="calc:capacity.machine").set_value("H100-SXM").run()
    assert_clean(at)
    assert "H100-SXM" in metrics(at)["Machines for the target"]
    # impossible inputs get a message, not a traceback
    number(at, "capacity.tier2_share").set_value(90.0).run()
    assert any("more than 100% of questions" in e.value for e in at.error)


def test_capacity_copies_into_per_resolution_pricing():
    at = page()
    at.toggle(key="calc:resolution.enabled").set_value(True).run()
    assert_clean(at)
    pnl = pnl_frame(at)
    assert pnl["Per-resolution revenue"].iloc[0] > 0
    button = next(b for b in at.button if b.label == "Use in the business model")
    button.click().run()
    assert number(at, "resolution.serving_cost_per_conversation").value == pytest.approx(0.0048, abs=1e-4)
    before = pnl_frame(at)["Per-resolution revenue"]
    number(at, "trend.price_decline_yearly").set_value(90.0).run()  # LLMflation: 10x cheaper a year
    assert_clean(at)
    assert pnl_frame(at)["Per-resolution revenue"].iloc[12] == pytest.approx(0.1 * before.iloc[12], rel=1e-3)
    next(b for b in at.button if b.label == "Price war over resolutions").click().run()
    assert_clean(at)
    assert number(at, "price_war.our_price").value == pytest.approx(0.99)
    assert number(at, "price_war.decline_yearly").value == pytest.approx(90.0)
    assert any("per resolved conversation" in c.value for c in at.caption)


def test_capacity_tab_in_chinese_and_traditional():
    for language, label in (("简体中文", "达标所需机器"), ("繁體中文", "達標所需機器")):
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["language"] = language
        at.switch_page("pages/calculator.py").run()
        assert_clean(at)
        assert label in metrics(at), language


def test_calibration_shows_the_load_check(settings):
    import json

    result = {
        "checks": [
            {"clients": 1, "predicted_throughput_per_s": 0.08, "measured_throughput_per_s": 0.075,
             "predicted_p50_s": 12.5, "measured_p50_s": 13.0, "requests": 4},
        ],
        "machine": {"prefill_tok_s": 95.0, "decode_tok_s": 14.0, "slots": 2},
        "measured_at": "2026-12-07 16:00",
    }  # fmt: skip
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "capacity_check.json").write_text(json.dumps(result))
    at = page()
    table = next(df.value for df in at.dataframe if "Measured p50" in df.value.columns)
    assert table["Measured p50"].iloc[0] == 13.0 and table["Predicted answers / hour"].iloc[0] == pytest.approx(288)

"""Compare saved scenarios, export them, download the investor summary; calibration against
published training runs."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import economics as eco
from core.economics.capacity import CHECK_FILE, CHECK_REFERENCE
from core.economics.summary import Summary, plan_figures, to_docx, to_markdown
from core.text.exports import safe_cells, to_xlsx
from ui import lang, settings, t
from ui_calc import capacity
from ui_calc.business import cash_figure, monte_carlo
from ui_calc.common import (
    current_scenario,
    error_box,
    error_text,
    fmt_money,
    fmt_months,
    number_table,
    run_t,
    saved_scenario,
    store,
)
from ui_calc.tech import CHART

# the business models' names
MODEL_KEYS = {
    "api": "calc.model_api",
    "services": "calc.model_services",
    "subscription": "calc.model_subscription",
}
# the investor summary's row labels
SUMMARY_KEYS = {
    "assumptions": "calc.sum_assumptions",
    "break_even_at": "calc.sum_break_even_at",
    "by_quarter": "calc.sum_by_quarter",
    "cash_curve": "calc.sum_cash_curve",
    "costs": "calc.sum_costs",
    "cumulative_cash": "calc.sum_cumulative_cash",
    "estimates": "calc.sum_estimates",
    "gross_margin": "calc.sum_gross_margin",
    "key_numbers": "calc.sum_key_numbers",
    "mc_p50": "calc.sum_mc_p50",
    "month": "calc.sum_month",
    "monthly": "calc.sum_monthly",
    "net": "calc.sum_net",
    "note": "calc.sum_note",
    "quarter": "calc.sum_quarter",
    "revenue": "calc.sum_revenue",
    "serving_estimate": "calc.sum_serving_estimate",
    "serving_seat": "calc.sum_serving_seat",
    "serving_tokens": "calc.sum_serving_tokens",
    "som": "calc.sum_som",
    "subtitle": "calc.sum_subtitle",
    "tam": "calc.sum_tam",
    "title": "calc.sum_title",
    "training_estimate": "calc.sum_training_estimate",
    "training_pnl": "calc.sum_training_pnl",
}

# The "current inputs" choice in the comparison: not a string a saved scenario can be called
# (ScenarioStore refuses control characters), so a saved scenario is never mistaken for it.
CURRENT = "\x00current"


def key_numbers(s: eco.Scenario) -> dict:
    """The headline numbers of one scenario (core.economics.summary.plan_figures, without Monte Carlo);
    cached per set of inputs."""
    return _key_numbers(json.dumps(s.to_dict(), sort_keys=True))


@st.cache_data(max_entries=64, show_spinner=False)
def _key_numbers(inputs_json: str) -> dict:
    return plan_figures(eco.Scenario.from_dict(json.loads(inputs_json)), monte_carlo=False, capacity=False)


def _pct(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _runway(k: dict) -> str:
    return fmt_months(None, k["months"]) if k["runway"] is None else t("calc.n_months", n=k["runway"])


def _row(name: str, k: dict) -> dict:
    return {
        t("calc.col_scenario"): name,
        t("calc.break_even"): fmt_months(k["break_even"], k["months"]),
        t("calc.payback"): fmt_months(k["payback"], k["months"]),
        t("calc.runway"): _runway(k),
        t("calc.cash_end"): fmt_money(k["cash_end"]),
        t("calc.revenue_last"): fmt_money(k["revenue_last_month"]),
        t("calc.sum_gross_margin"): _pct(k["gross_margin_last_month"]),
        "LTV / CAC": "—" if k["ltv_to_cac"] is None else f"{k['ltv_to_cac']:.1f}×",
        t("calc.training_cost"): fmt_money(k["training_cost"]),
        t("calc.col_serving_estimate"): fmt_money(k["serving_estimate_per_million_output"], cents=True),
    }


def _with_capacity(s: eco.Scenario, k: dict) -> dict:
    """Key numbers with the Capacity tab's (computed once there, cached, for both tabs)."""
    try:
        return k | capacity.figures(s)
    except ValueError:
        return k  # the Capacity tab says why


def _capacity_estimates(k: dict) -> list[tuple[str, str]]:
    """The Capacity tab's numbers for the investor summary (estimates: not in the P&L)."""
    if k.get("capacity_machines") is None:
        return []
    out = [
        (
            t("calc.sum_capacity"),
            t(
                "calc.sum_capacity_value",
                n=k["capacity_machines"],
                machine=k["capacity_machine"],
                p90=f"{k['first_word_p90_s']:.1f}",
            ),  # fmt: skip
        )
    ]
    if k["cost_per_resolved"] is not None:
        versus = (
            t("calc.sum_versus", name=k["service_name"], v=fmt_money(k["service_per_resolved"], cents=True))
            if k["service_per_resolved"] is not None
            else ""
        )
        out.append((t("calc.sum_cost_resolved"), fmt_money(k["cost_per_resolved"], cents=True) + versus))
    return out


def _pnl_frame(pnl: pd.DataFrame) -> pd.DataFrame:
    """The P&L columns the investor summary shows: revenue, costs, net and cash, month by month."""
    return pd.DataFrame(
        {
            "month": pnl["month"],
            "revenue": pnl["revenue"],
            "costs": pnl["revenue"] - pnl["net"],
            "net": pnl["net"],
            "cumulative_cash": pnl["cash"],
        }
    )


def _headline(k: dict, mc=None) -> list[tuple[str, str]]:
    """The summary's key numbers: the plan's, Monte Carlo's when given, the market's and the costs
    the P&L deducts."""
    headline = [
        (t("calc.break_even"), fmt_months(k["break_even"], k["months"])),
        (t("calc.payback"), fmt_months(k["payback"], k["months"])),
        (t("calc.runway"), _runway(k)),
        (t("calc.cash_end"), fmt_money(k["cash_end"])),
        (t("calc.revenue_last"), fmt_money(k["revenue_last_month"])),
        (t("calc.sum_gross_margin"), _pct(k["gross_margin_last_month"])),
    ]
    if k["ltv_to_cac"] is not None:
        headline.append(("LTV / CAC", f"{k['ltv_to_cac']:.1f}×"))
    if mc is not None:
        headline += [
            (t("calc.sum_mc_p50", n=f"{mc.draws:,}"), fmt_months(mc.p50, mc.months)),
            (t("calc.p_within", n=mc.within_months), f"{mc.probability_within:.0%}"),
        ]
    if k["tam"] is not None:
        headline += [(t("calc.sum_tam"), fmt_money(k["tam"])), (t("calc.sum_som"), fmt_money(k["som"]))]
    headline.append((t("calc.sum_training_pnl"), fmt_money(k["training_cost"])))
    for column, label in (
        ("serving_cost_per_seat", t("calc.sum_serving_seat")),
        ("serving_cost_per_million_tokens", t("calc.sum_serving_tokens")),
        ("serving_cost_per_conversation", t("calc.sum_serving_conversation")),
    ):
        if k[column] is not None:
            headline.append((label, fmt_money(k[column], cents=True)))
    return headline


def _assumptions(s: eco.Scenario) -> list[tuple[str, str]]:
    """The inputs an investor asks about first: business models, cash, team, prices, GPU, months."""
    models = [
        t(MODEL_KEYS[m])
        for m, on in (
            ("subscription", s.subscription.enabled),
            ("api", s.api.enabled),
            ("services", s.services.enabled),
        )
        if on
    ]
    return [
        (t("calc.models_on"), ", ".join(models) or "—"),
        (t("calc.cash"), fmt_money(s.costs.starting_cash)),
        (t("calc.team"), fmt_money(s.costs.team_monthly)),
        (t("calc.seat_price"), fmt_money(s.subscription.price_per_seat_month)),
        (t("calc.churn"), f"{s.subscription.churn_monthly:.1%}"),
        (t("calc.api_price"), fmt_money(s.api.price_per_million_tokens, cents=True)),
        (t("calc.gpu"), f"{s.serving.gpu}, {s.serving.params / 1e9:g}B, {s.serving.precision}"),
        (t("calc.months"), str(s.months)),
    ]


# the summary's headings and column names, in its labels
SUMMARY_LABELS = (
    "key_numbers",
    "assumptions",
    "by_quarter",
    "quarter",
    "revenue",
    "costs",
    "net",
    "cumulative_cash",
    "monthly",
    "cash_curve",
    "month",
    "estimates",
    "break_even_at",
)


def summary_for(name: str, s: eco.Scenario, k: dict, mc=None) -> Summary:
    """The investor summary: every cost it names is the one the P&L deducts; the Training and Serving
    tabs' estimates are listed apart, labelled as estimates. `mc`: the Risk tab's Monte Carlo result."""
    estimates = [
        (t("calc.sum_training_estimate"), fmt_money(k["training_estimate"])),
        (t("calc.sum_serving_estimate"), fmt_money(k["serving_estimate_per_million_output"], cents=True)),
        *_capacity_estimates(k),
    ]
    return Summary(
        title=t("calc.sum_title", name=name),
        subtitle=t("calc.sum_subtitle"),
        key_numbers=_headline(k, mc),
        assumptions=_assumptions(s),
        pnl=_pnl_frame(k["pnl"]),
        labels={label: t(SUMMARY_KEYS[label]) for label in SUMMARY_LABELS},
        notes=[t("calc.sum_note")],
        estimates=estimates,
        break_even=k["break_even"],
    )


def _labels(chosen: list[str]) -> dict[str, str]:
    """What each chosen entry is called on screen and in the files: distinct even when a scenario
    saved before names were reserved is called like the current inputs."""
    labels, seen = {}, set()
    for option in chosen:
        label = t("calc.current_inputs") if option == CURRENT else option
        if label.casefold() in seen:
            label = t("calc.saved_label", name=label)
        seen.add(label.casefold())
        labels[option] = label
    return labels


def _chosen_scenarios(chosen: list[str], labels: dict[str, str]) -> dict[str, eco.Scenario]:
    """The chosen scenarios by label; a saved one that no longer loads is named in a warning."""
    scenarios: dict[str, eco.Scenario] = {}
    for option in chosen:
        try:
            scenarios[labels[option]] = current_scenario() if option == CURRENT else saved_scenario(option)
        except ValueError as exc:
            st.warning(t("calc.bad_saved", name=option, error=error_text(exc)), icon=":material/warning:")
    return scenarios


def _comparison(numbers: dict[str, dict]) -> None:
    """The scenarios' key numbers side by side, their cash curves, and the P&Ls as CSV and Excel."""
    table = pd.DataFrame([_row(n, k) for n, k in numbers.items()])
    st.dataframe(table, hide_index=True, width="stretch")
    st.plotly_chart(cash_figure({n: k["pnl"] for n, k in numbers.items()}), width="stretch", key="chart-compare")
    c1, c2 = st.columns(2)
    pnls = pd.concat([k["pnl"].assign(scenario=n) for n, k in numbers.items()], ignore_index=True)
    # Files are built when clicked (callables), not on every rerun.
    c1.download_button(
        t("calc.dl_csv"),
        lambda: safe_cells(pnls).to_csv(index=False).encode("utf-8-sig"),
        "scenarios-pnl.csv",
        "text/csv",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",  # a download needs no rerun of the page
    )
    # The comparison sheet comes first, so it keeps its name; scenario sheets get valid, distinct names.
    sheets = [(t("calc.sheet_compare"), table), *((n, k["pnl"]) for n, k in numbers.items())]
    c2.download_button(
        t("calc.dl_xlsx"),
        lambda: to_xlsx(sheets),
        "scenarios.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        width="stretch",
        on_click="ignore",
    )


def _summary_downloads(summary: Summary) -> None:
    """The investor summary as Markdown and Word, and a preview."""
    c1, c2 = st.columns(2)
    markdown = to_markdown(summary)
    c1.download_button(
        t("calc.dl_md"),
        markdown.encode("utf-8"),
        "investor-summary.md",
        "text/markdown",
        icon=":material/description:",
        width="stretch",
        key="dl-summary-md",
        on_click="ignore",
    )
    c2.download_button(
        t("calc.dl_docx"),
        lambda: to_docx(summary),
        "investor-summary.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        icon=":material/article:",
        width="stretch",
        key="dl-summary-docx",
        on_click="ignore",
    )
    with st.expander(t("calc.preview")):
        st.markdown(markdown.replace("$", "\\$"))


def compare_tab() -> None:
    saved = store().names()
    chosen = st.multiselect(
        t("calc.compare_pick"),
        [CURRENT, *saved],
        default=[CURRENT, *saved[:2]],
        format_func=lambda o, tr=run_t(): tr("calc.current_inputs") if o == CURRENT else o,
        key="calc.compare",
        help=t("calc.compare_help"),
    )
    labels = _labels(chosen)
    numbers = {}
    for name, s in _chosen_scenarios(chosen, labels).items():
        try:
            numbers[name] = key_numbers(s)
        except ValueError as exc:
            error_box(exc)
    if numbers:
        _comparison(numbers)

    st.subheader(t("calc.investor"))
    st.caption(t("calc.investor_help"))
    s = current_scenario()
    name = st.session_state.get("calc.current") or t("calc.current_inputs")
    try:
        k = numbers.get(labels.get(CURRENT)) or key_numbers(s)
    except ValueError as exc:
        error_box(exc)
        return
    try:
        mc = monte_carlo(s)
    except ValueError:
        mc = None  # the Risk tab says why
    _summary_downloads(summary_for(name, s, _with_capacity(s, k), mc))


def calibration_tab() -> None:
    st.caption(t("calc.calibration_help"))
    mfu = st.slider(
        t("calc.mfu"),
        1.0,
        100.0,
        eco.DEFAULT_MFU * 100,
        step=1.0,
        format="%.0f%%",
        key="calc.calib_mfu",
        help=t("calc.mfu_help"),
    )
    try:
        table = eco.calibration_table(mfu / 100)
    except ValueError as exc:
        error_box(exc)
        return
    number_table(
        {
            t("calc.col_model"): table["model"],
            "GPU": table["gpu"],
            t("calc.col_reported_h"): table["reported_gpu_hours"],
            t("calc.col_estimated_h"): table["estimated_gpu_hours"],
            t("calc.col_ratio"): table["ratio"],
            t("calc.col_implied"): table["implied_mfu"],
            t("calc.col_source"): table["source"],
        },
        {
            t("calc.col_reported_h"): "%,.0f",
            t("calc.col_estimated_h"): "%,.0f",
            t("calc.col_ratio"): "%.2f×",
            t("calc.col_implied"): "percent",
        },
    )
    fig = go.Figure(
        go.Bar(
            x=table["model"],
            y=table["implied_mfu"],
            text=table["gpu"],
            marker_color="#66bb6a",
            hovertemplate="%{x} (%{text}): %{y:.0%}<extra></extra>",
        )
    )
    fig.update_layout(title=t("calc.implied_chart"))
    fig.add_hline(
        y=mfu / 100, line=dict(color="#c62828", dash="dot"), annotation_text=t("calc.assumed", v=f"{mfu:.0f}%")
    )
    fig.update_layout(yaxis_tickformat=".0%", **CHART)
    st.plotly_chart(fig, width="stretch", key="chart-calibration")
    st.caption(t("calc.calibration_note"))
    if lang() != "en":
        st.caption(t("calc.sources_english"))
    load_check_panel()


def _last_check() -> dict | None:
    """The last `python -m core cost capacity --check` here, else the one recorded on the development machine."""
    for path in (settings().data_dir / CHECK_FILE, CHECK_REFERENCE):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def load_check_panel() -> None:
    """Serving under load: the capacity model's prediction beside what a written-answer load measured."""
    st.subheader(t("calc.load_check"), divider="gray")
    result = _last_check() or {}
    rows = pd.DataFrame([c for c in result.get("checks", []) if c.get("requests")])
    if rows.empty:  # none yet, or none of its answers finished in time
        st.caption(t("calc.load_check_none"))
        return
    number_table(
        {
            t("calc.col_clients"): rows["clients"],
            t("calc.col_pred_tput"): rows["predicted_throughput_per_s"] * 3600,
            t("calc.col_meas_tput"): rows["measured_throughput_per_s"] * 3600,
            t("calc.col_pred_p50"): rows["predicted_p50_s"],
            t("calc.col_meas_p50"): rows["measured_p50_s"],
            t("calc.col_requests"): rows["requests"],
        },
        {
            t("calc.col_pred_tput"): "%.1f",
            t("calc.col_meas_tput"): "%.1f",
            t("calc.col_pred_p50"): "%.1f s",
            t("calc.col_meas_p50"): "%.1f s",
        },
    )
    m = result.get("machine", {})
    st.caption(
        t(
            "calc.load_check_note",
            when=result.get("measured_at", "?"),
            prefill=f"{m.get('prefill_tok_s', 0):.0f}",
            decode=f"{m.get('decode_tok_s', 0):.1f}",
            slots=m.get("slots", "?"),
        )
    )
    if result.get("note"):
        st.caption(result["note"])  # how the machine was loaded during the run, as recorded (English)

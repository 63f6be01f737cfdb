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
from ui_calc.common import current_scenario, error_box, error_text, fmt_money, fmt_months, run_t, saved_scenario, store
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


def summary_for(name: str, s: eco.Scenario, k: dict, mc=None) -> Summary:
    """The investor summary: every cost it names is the one the P&L deducts; the Training and Serving
    tabs' estimates are listed apart, labelled as estimates. `mc`: the Risk tab's Monte Carlo result."""
    pnl = k["pnl"]
    frame = pd.DataFrame(
        {
            "month": pnl["month"],
            "revenue": pnl["revenue"],
            "costs": pnl["revenue"] - pnl["net"],
            "net": pnl["net"],
            "cumulative_cash": pnl["cash"],
        }
    )
    models = [
        t(MODEL_KEYS[m])
        for m, on in (
            ("subscription", s.subscription.enabled),
            ("api", s.api.enabled),
            ("services", s.services.enabled),
        )
        if on
    ]
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
    if k["serving_cost_per_seat"] is not None:
        headline.append((t("calc.sum_serving_seat"), fmt_money(k["serving_cost_per_seat"], cents=True)))
    if k["serving_cost_per_million_tokens"] is not None:
        headline.append((t("calc.sum_serving_tokens"), fmt_money(k["serving_cost_per_million_tokens"], cents=True)))
    if k["serving_cost_per_conversation"] is not None:
        headline.append((t("calc.sum_serving_conversation"), fmt_money(k["serving_cost_per_conversation"], cents=True)))
    estimates = [
        (t("calc.sum_training_estimate"), fmt_money(k["training_estimate"])),
        (t("calc.sum_serving_estimate"), fmt_money(k["serving_estimate_per_million_output"], cents=True)),
        *_capacity_estimates(k),
    ]
    assumptions = [
        (t("calc.models_on"), ", ".join(models) or "—"),
        (t("calc.cash"), fmt_money(s.costs.starting_cash)),
        (t("calc.team"), fmt_money(s.costs.team_monthly)),
        (t("calc.seat_price"), fmt_money(s.subscription.price_per_seat_month)),
        (t("calc.churn"), f"{s.subscription.churn_monthly:.1%}"),
        (t("calc.api_price"), fmt_money(s.api.price_per_million_tokens, cents=True)),
        (t("calc.gpu"), f"{s.serving.gpu}, {s.serving.params / 1e9:g}B, {s.serving.precision}"),
        (t("calc.months"), str(s.months)),
    ]
    labels = {
        k2: t(SUMMARY_KEYS[k2])
        for k2 in (
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
    }
    return Summary(
        title=t("calc.sum_title", name=name),
        subtitle=t("calc.sum_subtitle"),
        key_numbers=headline,
        assumptions=assumptions,
        pnl=frame,
        labels=labels,
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
    scenarios: dict[str, eco.Scenario] = {}
    for option in chosen:
        try:
            scenarios[labels[option]] = current_scenario() if option == CURRENT else saved_scenario(option)
        except ValueError as exc:
            st.warning(t("calc.bad_saved", name=option, error=error_text(exc)), icon=":material/warning:")
    numbers = {}
    for name, s in scenarios.items():
        try:
            numbers[name] = key_numbers(s)
        except ValueError as exc:
            error_box(exc)
    if numbers:
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
        )

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
    summary = summary_for(name, s, _with_capacity(s, k), mc)
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
    )
    c2.download_button(
        t("calc.dl_docx"),
        lambda: to_docx(summary),
        "investor-summary.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        icon=":material/article:",
        width="stretch",
        key="dl-summary-docx",
    )
    with st.expander(t("calc.preview")):
        st.markdown(markdown.replace("$", "\\$"))


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
    shown = pd.DataFrame(
        {
            t("calc.col_model"): table["model"],
            "GPU": table["gpu"],
            t("calc.col_reported_h"): table["reported_gpu_hours"],
            t("calc.col_estimated_h"): table["estimated_gpu_hours"],
            t("calc.col_ratio"): table["ratio"],
            t("calc.col_implied"): table["implied_mfu"],
            t("calc.col_source"): table["source"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            t("calc.col_reported_h"): st.column_config.NumberColumn(format="%,.0f"),
            t("calc.col_estimated_h"): st.column_config.NumberColumn(format="%,.0f"),
            t("calc.col_ratio"): st.column_config.NumberColumn(format="%.2f×"),
            t("calc.col_implied"): st.column_config.NumberColumn(format="percent"),
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
    st.dataframe(
        pd.DataFrame(
            {
                t("calc.col_clients"): rows["clients"],
                t("calc.col_pred_tput"): rows["predicted_throughput_per_s"] * 3600,
                t("calc.col_meas_tput"): rows["measured_throughput_per_s"] * 3600,
                t("calc.col_pred_p50"): rows["predicted_p50_s"],
                t("calc.col_meas_p50"): rows["measured_p50_s"],
                t("calc.col_requests"): rows["requests"],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            t("calc.col_pred_tput"): st.column_config.NumberColumn(format="%.1f"),
            t("calc.col_meas_tput"): st.column_config.NumberColumn(format="%.1f"),
            t("calc.col_pred_p50"): st.column_config.NumberColumn(format="%.1f s"),
            t("calc.col_meas_p50"): st.column_config.NumberColumn(format="%.1f s"),
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

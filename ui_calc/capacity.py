"""Capacity tab: customers served at once, time to the first word, machines for a p90 target, and
what one resolved conversation costs next to per-resolution services and API prices."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import economics as eco
from core.economics.capacity_plan import log_profile
from core.economics.summary import capacity_figures
from core.i18n import translate as i18n
from ui import lang, support_log, t
from ui_calc.business import num
from ui_calc.common import (
    OPTIONS,
    current_scenario,
    error_box,
    fmt_money,
    fmt_num,
    key,
    note_metric,
    number_table,
    run_t,
    show_how,
    to_widget,
    use_value,
)
from ui_calc.tech import CHART, GPU_NAMES

MACHINES = ["this", *GPU_NAMES]
OPTIONS.update({"capacity.machine": MACHINES, "capacity.daily_curve": list(eco.CURVES)})
# the daily curves' names
CURVE_KEYS = {"evening": "calc.curve_evening", "flat": "calc.curve_flat", "office": "calc.curve_office"}
# the resolution drivers' names (tornado)
RDRIVER_KEYS = {
    "handover_rate": "calc.rdriver_handover",
    "person_cost": "calc.rdriver_person",
    "right_rate": "calc.rdriver_right",
    "serving_per_conversation": "calc.rdriver_serving",
    "wrong_cost": "calc.rdriver_wrong_cost",
    "wrong_rate": "calc.rdriver_wrong",
}
KIND_KEYS = {"api": "calc.kind_api", "self": "calc.kind_self", "service": "calc.kind_service"}


def _secs(value) -> str:
    return "—" if value is None else t("calc.seconds", n=f"{value:,.1f}")


@st.cache_data(max_entries=64, show_spinner=False)
def _results(inputs_json: str) -> dict:
    """Plan, latency curve and resolution costs for one set of inputs (cached: they only change
    with the Capacity tab's inputs, the serving model and the Risk tab's swing)."""
    s = eco.Scenario.from_dict(json.loads(inputs_json))
    plan = eco.scenario_capacity(s)
    return {
        "plan": plan,
        "curve": eco.latency_curve(eco.scenario_machine(s), eco.scenario_traffic(s)),
        "resolution": eco.scenario_resolution(s, plan),
    }


def inputs_json(s: eco.Scenario) -> str:
    """The inputs the tab's results depend on: its own, the serving model's and the Risk tab's swing."""
    d = s.to_dict()
    return json.dumps({k: d[k] for k in ("capacity", "support", "serving", "uncertainty")}, sort_keys=True)


def _from_log() -> None:
    """Button callback: traffic and tier shares as this app's support log recorded them."""
    profile = log_profile(support_log().questions(limit=100_000))
    if profile is None:
        st.session_state["calc.flash"] = ("error", t("calc.log_empty"))
        return
    qpc = st.session_state.get(key("capacity.questions_per_conversation")) or 1.0
    values = {
        "capacity.conversations_per_day": profile["questions_per_day"] / qpc,
        "capacity.tier1_share": profile["tier1_share"],
        "capacity.tier2_share": profile["tier2_share"],
        "capacity.tier1_s": profile["tier1_s"],
        "capacity.tier3_s": profile["tier3_s"],
    }
    for path, value in values.items():
        if value is not None:
            st.session_state[key(path)] = to_widget(path, round(value, 4))
    st.session_state["calc.flash"] = (
        "success",
        t("calc.log_used", n=profile["questions"], days=f"{profile['days']:.1f}"),
    )


def _traffic_inputs() -> None:
    st.markdown(f"**{t('calc.sec_traffic')}**")
    num("capacity.conversations_per_day", t("calc.conv_day"), t("calc.conv_day_help"), step=100.0, format="%.0f")
    num("capacity.questions_per_conversation", t("calc.q_per_conv"), t("calc.q_per_conv_help"), step=0.5, format="%.1f")
    st.selectbox(
        t("calc.daily_curve"),
        list(eco.CURVES),
        key=key("capacity.daily_curve"),
        format_func=lambda c, tr=run_t(): tr(CURVE_KEYS[c]),
        help=t("calc.daily_curve_help"),
    )
    c1, c2 = st.columns(2)
    num("capacity.tier1_share", t("calc.tier1_share"), t("calc.tier1_share_help"), c1)
    num("capacity.tier2_share", t("calc.tier2_share"), t("calc.tier2_share_help"), c2)
    c1, c2 = st.columns(2)
    num(
        "capacity.prompt_tokens",
        t("calc.prompt_tokens"),
        t("calc.prompt_tokens_cap_help"),
        c1,
        step=50.0,
        format="%.0f",
    )
    num(
        "capacity.output_tokens",
        t("calc.output_tokens_cap"),
        t("calc.output_tokens_cap_help"),
        c2,
        step=10.0,
        format="%.0f",
    )
    st.button(t("calc.from_log"), on_click=_from_log, icon=":material/history:", help=t("calc.from_log_help"))


def _machine_inputs(s: eco.Scenario) -> None:
    st.markdown(f"**{t('calc.sec_machine')}**")
    st.selectbox(
        t("calc.machine"),
        MACHINES,
        key=key("capacity.machine"),
        format_func=lambda m, tr=run_t(): tr("calc.this_machine") if m == "this" else m,
        help=t("calc.machine_help"),
    )
    gpu = s.capacity.machine != "this"
    c1, c2 = st.columns(2)
    num(
        "capacity.prefill_tok_s",
        t("calc.prefill_speed"),
        t("calc.speed_help"),
        c1,
        step=10.0,
        format="%.0f",
        disabled=gpu,
    )
    num(
        "capacity.decode_tok_s",
        t("calc.decode_speed"),
        t("calc.speed_help"),
        c2,
        step=1.0,
        format="%.1f",
        disabled=gpu,
    )
    c1, c2 = st.columns(2)
    num("capacity.slots", t("calc.slots"), t("calc.slots_help"), c1, min_value=1, max_value=512)
    num(
        "capacity.slot_scaling",
        t("calc.slot_scaling"),
        t("calc.slot_scaling_help"),
        c2,
        max_value=1.0,
        step=0.05,
        disabled=gpu,
    )
    num(
        "capacity.usd_per_machine_hour",
        t("calc.machine_price"),
        t("calc.machine_price_help"),
        step=0.05,
        format="%.3f",
        disabled=gpu,
    )
    num("capacity.target_p90_s", t("calc.target_p90"), t("calc.target_p90_help"), step=1.0, format="%.1f")
    with st.expander(t("calc.tier_times")):
        num("capacity.tier1_s", t("calc.tier1_s"), t("calc.tier1_s_help"), step=0.1, format="%.2f")
        num("capacity.tier3_s", t("calc.tier3_s"), t("calc.tier3_s_help"), step=0.5, format="%.2f")
        num("capacity.overhead_s", t("calc.overhead_s"), t("calc.overhead_help"), step=0.5, format="%.2f")
        num("capacity.service_cv", t("calc.service_cv"), t("calc.service_cv_help"), step=0.1, max_value=3.0)


def _curve_figure(curve: dict, plan, tr) -> go.Figure:
    """Time to the first word against load, p50 and p90, the knee and the target marked (shapes
    written out: add_vline / add_hline cost ~10 ms each)."""
    x = curve["arrivals_per_hour"]
    knee_x = curve["knee_arrivals_per_hour"]
    data = [
        go.Scatter(x=x, y=curve[column], name=name, mode="lines", line=dict(color=color))
        for column, name, color in (("first_word_p50_s", "P50", "#66bb6a"), ("first_word_p90_s", "P90", "#1565c0"))
    ]
    data.append(
        go.Scatter(
            x=[plan.peak["arrivals_per_s"] * 3600],
            y=[plan.peak["first_word_p90_s"]],
            name=tr("calc.busiest_hour"),
            mode="markers",
            marker=dict(color="#6d4c41", size=10, symbol="diamond"),
        )
    )
    line = dict(type="line", xref="x", yref="paper", x0=knee_x, x1=knee_x, y0=0, y1=1)
    target = dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=plan.target_p90_s, y1=plan.target_p90_s)
    layout = dict(
        title=tr("calc.latency_chart"),
        xaxis_title=tr("calc.load_axis"),
        yaxis_title=tr("calc.first_word_axis"),
        legend=dict(orientation="h", y=-0.3),
        shapes=[
            line | dict(line=dict(color="#c62828", dash="dot")),
            target | dict(line=dict(color="#999", dash="dash")),
        ],
        annotations=[
            dict(
                x=knee_x,
                y=1,
                xref="x",
                yref="paper",
                showarrow=False,
                xanchor="left",
                yanchor="top",
                text=tr("calc.knee", v=f"{curve['knee_utilisation']:.0%}"),
            ),
            dict(
                x=1,
                y=plan.target_p90_s,
                xref="paper",
                yref="y",
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
                text=tr("calc.target"),
            ),
        ],
        **CHART,
    )
    return go.Figure(data=data, layout=layout)


def _tornado_figure(tornado: pd.DataFrame | None, tr) -> go.Figure | None:
    if tornado is None:
        return None
    tor = tornado.iloc[::-1]
    labels = [tr(RDRIVER_KEYS[d]) for d in tor["driver"]]
    data = [
        go.Bar(y=labels, x=tor[side] - tor["base"], base=tor["base"], orientation="h", name=tr(key_), marker_color=c)
        for side, key_, c in (("low", "calc.low", "#66bb6a"), ("high", "calc.high", "#c62828"))
    ]
    layout = dict(barmode="overlay", title=tr("calc.resolution_tornado"), xaxis_tickprefix="$", **CHART)
    return go.Figure(data=data, layout=layout)


def figures(s: eco.Scenario) -> dict:
    """The investor summary's capacity numbers (core.economics.summary.capacity_figures), from this
    tab's cached results."""
    out = _results(inputs_json(s))
    return capacity_figures(out["plan"], out["resolution"])


@st.cache_resource(max_entries=64, show_spinner=False)
def _figures(inputs_json: str, code: str) -> tuple[go.Figure, go.Figure | None]:
    """The tab's two charts for one set of inputs and one language (plotly figures take tens of ms
    to build: built once, shown on every rerun)."""
    out = _results(inputs_json)

    def tr(k: str, **kwargs) -> str:
        return i18n.t(k, code, **kwargs)

    return _curve_figure(out["curve"], out["plan"], tr), _tornado_figure(out["resolution"]["tornado"], tr)


def _plan_results(plan, figure: go.Figure) -> None:
    m = st.columns(3) + st.columns(3)
    machine = t("calc.this_machine") if plan.machine["source"] == "measured" else plan.machine["name"]
    m[0].metric(
        t("calc.machines_needed"), f"{plan.machines} × {machine}", help=t("calc.machines_needed_help"), border=True
    )
    note_metric(
        m[1],
        t("calc.peak_p90"),
        _secs(plan.peak["first_word_p90_s"]),
        t("calc.at_hour", h=plan.peak_hour, u=f"{plan.peak['utilisation']:.0%}"),
        border=True,
    )
    m[2].metric(
        t("calc.capacity_per_machine"),
        t("calc.per_hour", n=fmt_num(plan.capacity_per_machine_per_s * 3600)),
        help=t("calc.capacity_help"),
        border=True,
    )
    m[3].metric(
        t("calc.day_written"),
        f"{_secs(plan.day['first_word_p50_s'])} / {_secs(plan.day['first_word_p90_s'])}",
        help=t("calc.day_written_help"),
        border=True,
    )
    m[4].metric(
        t("calc.day_all"),
        f"{_secs(plan.all_tiers['first_word_p50_s'])} / {_secs(plan.all_tiers['first_word_p90_s'])}",
        help=t("calc.day_all_help"),
        border=True,
    )
    note_metric(
        m[5],
        t("calc.cost_per_conversation"),
        fmt_money(plan.cost_per_conversation_usd, cents=True),
        t("calc.per_month", v=fmt_money(plan.monthly_cost_usd)),
        border=True,
    )
    st.plotly_chart(figure, width="stretch", key="chart-capacity")
    if st.toggle(t("calc.by_hour"), key="calc.show_hours", help=t("calc.by_hour_help")):  # drawn when asked
        hours = pd.DataFrame(plan.hourly)
        number_table(
            {
                t("calc.hour"): hours["hour"],
                t("calc.written_per_hour"): (hours["arrivals_per_s"] * 3600).round(1),
                t("calc.utilisation"): hours["utilisation"],
                "P50": hours["first_word_p50_s"],
                "P90": hours["first_word_p90_s"],
            },
            {t("calc.utilisation"): "percent"},
        )


def _simulate(s: eco.Scenario, plan) -> None:
    if st.button(t("calc.simulate"), icon=":material/play_arrow:", help=t("calc.simulate_help")):
        try:
            sim = eco.simulate(eco.scenario_machine(s), eco.scenario_traffic(s), days=30, machines=plan.machines)
        except ValueError as exc:
            error_box(exc)
            return
        st.session_state["calc.simulation"] = sim
    sim = st.session_state.get("calc.simulation")
    if sim is not None:
        st.caption(
            t(
                "calc.simulated",
                n=f"{sim.answers:,}",
                p50=f"{sim.first_word_p50_s:.1f}",
                p90=f"{sim.first_word_p90_s:.1f}",
                busy=f"{sim.busy_share:.0%}",
            )
        )


def _support_inputs() -> None:
    st.markdown(f"**{t('calc.sec_outcomes')}**")
    c1, c2, c3 = st.columns(3)
    num("support.right_rate", t("calc.right_rate"), t("calc.outcome_help"), c1)
    num("support.handover_rate", t("calc.handover_rate"), t("calc.outcome_help"), c2)
    num("support.wrong_rate", t("calc.wrong_rate"), t("calc.outcome_help"), c3)
    st.caption(t("calc.outcomes_source"))
    c1, c2 = st.columns(2)
    num("support.person_cost_per_conversation", t("calc.person_cost"), t("calc.illustrative"), c1, step=1.0)
    num("support.wrong_answer_cost", t("calc.wrong_cost"), t("calc.illustrative"), c2, step=1.0)
    st.checkbox(t("calc.bill_wrong"), key=key("support.bill_wrong_as_resolved"), help=t("calc.bill_wrong_help"))


def _resolution_results(res: dict, plan, tornado: go.Figure | None) -> None:
    cost = res["cost"]
    if cost is None:
        st.info(t("calc.no_machine_price"), icon=":material/info:")
    else:
        m = st.columns(3)
        m[0].metric(t("calc.per_resolved"), fmt_money(cost.per_resolved, cents=True), border=True)
        m[1].metric(t("calc.per_conversation_all"), fmt_money(cost.per_conversation, cents=True), border=True)
        mc = res["monte_carlo"]
        note_metric(
            m[2],
            t("calc.resolved_range"),
            f"{fmt_money(mc['p10'], cents=True)} – {fmt_money(mc['p90'], cents=True)}",
            t("calc.p_cheaper", v=f"{mc['p_cheaper']:.0%}") if mc["p_cheaper"] is not None else None,
            help=t("calc.resolved_range_help"),
            border=True,
        )
        st.button(
            t("calc.use_in_business"),
            on_click=use_value,
            args=("resolution.serving_cost_per_conversation", plan.cost_per_conversation_usd),
            icon=":material/input:",
            help=t("calc.use_in_business_help"),
        )
    table = res["comparison"]
    number_table(
        {
            t("calc.col_option"): [
                t("calc.self_hosted") if k == "self" else o
                for o, k in zip(table["option"], table["kind"], strict=False)
            ],
            t("calc.col_kind"): [t(KIND_KEYS[k]) for k in table["kind"]],
            t("calc.col_ai_cost"): table["ai_cost"],
            t("calc.col_handover"): table["handover"],
            t("calc.col_wrong"): table["wrong"],
            t("calc.col_per_resolved"): table["per_resolved"],
            t("calc.col_source_date"): table["source_date"],
        },
        {t(c): "$%.3f" for c in ("calc.col_ai_cost", "calc.col_handover", "calc.col_wrong", "calc.col_per_resolved")},
    )
    st.caption(t("calc.resolution_sources"))
    if tornado is not None:
        st.plotly_chart(tornado, width="stretch", key="chart-resolution-tornado")


def capacity_tab() -> None:
    left, right = st.columns([1, 2], gap="large")
    s = current_scenario()
    with left:
        _traffic_inputs()
        _machine_inputs(s)
    s = current_scenario()
    with right:
        key_ = inputs_json(s)
        try:
            out = _results(key_)
            curve, tornado = _figures(key_, lang())
        except ValueError as exc:
            error_box(exc)
            return
        _plan_results(out["plan"], curve)
        _simulate(s, out["plan"])
    st.subheader(t("calc.resolution_title"), divider="gray")
    left, right = st.columns([1, 2], gap="large")
    with left:
        _support_inputs()
    with right:
        _resolution_results(out["resolution"], out["plan"], tornado)
    show_how("capacity")

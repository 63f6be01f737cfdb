"""Unit economics, business model (P&L), price war, market size and risk tabs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import economics as eco
from ui import t
from ui_calc.common import (
    OPTIONS,
    PERCENT,
    current_scenario,
    error_box,
    error_text,
    fmt_money,
    fmt_months,
    fmt_num,
    inputs_changed,
    key,
    note_metric,
    run_t,
    show_how,
    tab_columns,
    use_value,
)
from ui_calc.tech import CHART

# the sensitivity drivers' labels
DRIVER_KEYS = {
    "api.cac_per_customer": "calc.driver.api.cac_per_customer",
    "api.churn_monthly": "calc.driver.api.churn_monthly",
    "api.customer_growth_monthly": "calc.driver.api.customer_growth_monthly",
    "api.customers_start": "calc.driver.api.customers_start",
    "api.price_per_million_tokens": "calc.driver.api.price_per_million_tokens",
    "api.serving_cost_per_million_tokens": "calc.driver.api.serving_cost_per_million_tokens",
    "api.tokens_per_customer_month": "calc.driver.api.tokens_per_customer_month",
    "costs.other_fixed_monthly": "calc.driver.costs.other_fixed_monthly",
    "costs.starting_cash": "calc.driver.costs.starting_cash",
    "costs.team_monthly": "calc.driver.costs.team_monthly",
    "costs.training_one_off": "calc.driver.costs.training_one_off",
    "resolution.cac_per_customer": "calc.driver.resolution.cac_per_customer",
    "resolution.churn_monthly": "calc.driver.resolution.churn_monthly",
    "resolution.conversations_per_customer_month": "calc.driver.resolution.conversations_per_customer_month",
    "resolution.customer_growth_monthly": "calc.driver.resolution.customer_growth_monthly",
    "resolution.customers_start": "calc.driver.resolution.customers_start",
    "resolution.price_per_resolution": "calc.driver.resolution.price_per_resolution",
    "resolution.resolution_rate": "calc.driver.resolution.resolution_rate",
    "resolution.serving_cost_per_conversation": "calc.driver.resolution.serving_cost_per_conversation",
    "trend.cost_decline_yearly": "calc.driver.trend.cost_decline_yearly",
    "trend.price_decline_yearly": "calc.driver.trend.price_decline_yearly",
    "services.contract_value": "calc.driver.services.contract_value",
    "services.contracts_per_quarter": "calc.driver.services.contracts_per_quarter",
    "services.delivery_cost_pct": "calc.driver.services.delivery_cost_pct",
    "subscription.cac_per_seat": "calc.driver.subscription.cac_per_seat",
    "subscription.churn_monthly": "calc.driver.subscription.churn_monthly",
    "subscription.growth_monthly": "calc.driver.subscription.growth_monthly",
    "subscription.price_per_seat_month": "calc.driver.subscription.price_per_seat_month",
    "subscription.seats_start": "calc.driver.subscription.seats_start",
    "subscription.serving_cost_per_seat_month": "calc.driver.subscription.serving_cost_per_seat_month",
}
# the P&L columns' labels
PNL_KEYS = {
    "acquisition": "calc.pnl.acquisition",
    "api_customers": "calc.pnl.api_customers",
    "cash": "calc.pnl.cash",
    "contracts_per_quarter": "calc.pnl.contracts_per_quarter",
    "cumulative_net": "calc.pnl.cumulative_net",
    "delivery_cost": "calc.pnl.delivery_cost",
    "gross_margin": "calc.pnl.gross_margin",
    "gross_profit": "calc.pnl.gross_profit",
    "month": "calc.pnl.month",
    "net": "calc.pnl.net",
    "new_api_customers": "calc.pnl.new_api_customers",
    "new_resolution_customers": "calc.pnl.new_resolution_customers",
    "resolution_customers": "calc.pnl.resolution_customers",
    "resolutions": "calc.pnl.resolutions",
    "revenue_resolution": "calc.pnl.revenue_resolution",
    "new_seats": "calc.pnl.new_seats",
    "opex": "calc.pnl.opex",
    "other_fixed": "calc.pnl.other_fixed",
    "revenue": "calc.pnl.revenue",
    "revenue_api": "calc.pnl.revenue_api",
    "revenue_services": "calc.pnl.revenue_services",
    "revenue_subscription": "calc.pnl.revenue_subscription",
    "seats": "calc.pnl.seats",
    "serving_cost": "calc.pnl.serving_cost",
    "team": "calc.pnl.team",
    "training": "calc.pnl.training",
}
# the price-war responses' names
RESPONSE_KEYS = {
    "hold": "calc.resp_hold",
    "match": "calc.resp_match",
    "undercut": "calc.resp_undercut",
}
# the risk metrics' names
METRIC_LABEL_KEYS = {
    "break_even_month": "calc.metric_break_even_month",
    "cash_at_end": "calc.metric_cash_at_end",
    "payback_month": "calc.metric_payback_month",
}

OPTIONS.update({"price_war.response": list(eco.RESPONSES)})
RESPONSE_COLORS = {"hold": "#1565c0", "match": "#2e7d32", "undercut": "#c62828"}


def num(path: str, label: str, help: str | None = None, container=st, **kwargs):
    """A number input for a scenario path, in the units the widget shows (% for shares)."""
    pct = path.rsplit(".", 1)[-1] in PERCENT
    default = eco.Scenario().get(path)
    if isinstance(default, int) and not isinstance(default, bool) and not pct:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("step", 1)
    else:
        kwargs.setdefault("min_value", 0.0)
        kwargs.setdefault("max_value", 100.0 if pct else None)
        kwargs.setdefault("format", "%.1f" if pct else "%.2f")
    return container.number_input(label + (" (%)" if pct else ""), key=key(path), help=help, **kwargs)


def driver_label(path: str) -> str:
    return t(DRIVER_KEYS[path])


# -- unit economics -----------------------------------------------------------------------------
def _use_cost_buttons(plan) -> None:
    """Buttons that copy the serving cost per seat, and per million tokens, into the business model."""
    tokens_m = (plan.monthly_input_tokens + plan.monthly_output_tokens) / 1e6
    c1, c2 = st.columns(2)
    if plan.cost_per_user_usd is not None:
        c1.button(
            t("calc.use_seat_cost", v=fmt_money(plan.cost_per_user_usd, cents=True)),
            icon=":material/input:",
            on_click=use_value,
            args=("subscription.serving_cost_per_seat_month", plan.cost_per_user_usd),
        )
    if tokens_m > 0:
        per_m = plan.monthly_cost_usd / tokens_m
        c2.button(
            t("calc.use_token_cost", v=fmt_money(per_m, cents=True)),
            icon=":material/input:",
            on_click=use_value,
            args=("api.serving_cost_per_million_tokens", per_m),
        )


def _scale_figure(curve) -> go.Figure:
    """The cost of one user a month against the number of users, in total and for serving alone."""
    fig = go.Figure()
    x = curve["users"]
    for column, name, color in (
        ("cost_per_user", t("calc.total_per_user"), "#37474f"),
        ("serving_cost_per_user", t("calc.serving_only"), "#2e7d32"),
    ):
        if column in curve:
            fig.add_trace(go.Scatter(x=x, y=curve[column], name=name, mode="lines", line=dict(color=color, shape="hv")))
    fig.update_layout(
        title=t("calc.scale_chart"),
        xaxis=dict(type="log", title=t("calc.users")),
        yaxis=dict(type="log", title=t("calc.usd_per_user_month"), tickprefix="$"),
        legend=dict(orientation="h", y=-0.25),
        **CHART,
    )
    return fig


def _unit_inputs() -> None:
    """Users, their requests a day, and how far the cost-per-user chart reaches."""
    num("usage.users", t("calc.users"), t("calc.users_help"), step=100.0, format="%.0f")
    num("usage.requests_per_user_per_day", t("calc.requests_day"), t("calc.requests_day_help"), step=1.0, format="%.1f")
    num(
        "serving.curve_max_users",
        t("calc.curve_max"),
        t("calc.curve_max_help"),
        step=10_000.0,
        format="%.0f",
        min_value=20.0,
    )
    st.caption(t("calc.units_from_serving"))


def _unit_view(s: eco.Scenario) -> None:
    """Serving the scenario's users: tokens, GPUs, cost per user, and the cost curve."""
    try:
        sv = eco.scenario_serving(s)
        plan = eco.serving_plan(s.usage, sv, s.serving.target_utilisation)
        curve = eco.unit_cost_curve(s, sv)  # team, fixed and training costs: the P&L's own
    except ValueError as exc:
        error_box(exc)
        return
    m = st.columns(4)
    m[0].metric(t("calc.monthly_tokens"), fmt_num(plan.monthly_input_tokens + plan.monthly_output_tokens))
    note_metric(m[1], t("calc.gpus_provisioned"), plan.gpus, t("calc.busy", pct=f"{plan.utilisation:.0%}"))
    m[2].metric(t("calc.monthly_serving"), fmt_money(plan.monthly_cost_usd))
    note_metric(
        m[3],
        t("calc.serving_per_user"),
        fmt_money(plan.cost_per_user_usd, cents=True),
        t("calc.per_1k_req", v=fmt_money(plan.cost_per_1k_requests_usd, cents=True)),
    )
    _use_cost_buttons(plan)
    st.plotly_chart(_scale_figure(curve), width="stretch", key="chart-scale")
    show_how("units")


def unit_economics_tab() -> None:
    tab_columns(_unit_inputs, _unit_view)


# -- business model -----------------------------------------------------------------------------
def _inputs_subscription() -> None:
    st.toggle(t("calc.model_subscription"), key=key("subscription.enabled"), help=t("calc.stream_help"))
    num("subscription.seats_start", t("calc.seats_start"), t("calc.seats_start_help"), format="%.0f", step=50.0)
    num("subscription.price_per_seat_month", t("calc.seat_price"), t("calc.seat_price_help"), step=1.0)
    num("subscription.growth_monthly", t("calc.growth"), t("calc.seat_growth_help"))
    num("subscription.churn_monthly", t("calc.churn"), t("calc.seat_churn_help"))
    num("subscription.cac_per_seat", t("calc.cac_seat"), t("calc.cac_help"), step=10.0)
    num("subscription.serving_cost_per_seat_month", t("calc.serving_seat"), t("calc.serving_seat_help"))


def _inputs_api() -> None:
    st.toggle(t("calc.model_api"), key=key("api.enabled"), help=t("calc.stream_help"))
    num("api.price_per_million_tokens", t("calc.api_price"), t("calc.api_price_help"), step=0.1, format="%.3f")
    num("api.customers_start", t("calc.customers_start"), t("calc.customers_start_help"), format="%.0f")
    num("api.customer_growth_monthly", t("calc.growth"), t("calc.api_growth_help"))
    num("api.churn_monthly", t("calc.churn"), t("calc.api_churn_help"))
    num(
        "api.tokens_per_customer_month",
        t("calc.tokens_customer"),
        t("calc.tokens_customer_help"),
        format="%.0f",
        step=1e6,
    )
    num("api.cac_per_customer", t("calc.cac_customer"), t("calc.cac_customer_help"), step=100.0)
    num(
        "api.serving_cost_per_million_tokens",
        t("calc.serving_tokens"),
        t("calc.serving_tokens_help"),
        format="%.3f",
        step=0.05,
    )


def _inputs_resolution() -> None:
    st.toggle(t("calc.model_resolution"), key=key("resolution.enabled"), help=t("calc.model_resolution_help"))
    num(
        "resolution.price_per_resolution",
        t("calc.resolution_price"),
        t("calc.resolution_price_help"),
        step=0.1,
        format="%.3f",
    )
    num("resolution.customers_start", t("calc.customers_start"), t("calc.res_customers_help"), format="%.0f")
    num("resolution.customer_growth_monthly", t("calc.growth"), t("calc.res_growth_help"))
    num("resolution.churn_monthly", t("calc.churn"), t("calc.res_churn_help"))
    num(
        "resolution.conversations_per_customer_month",
        t("calc.conversations_customer"),
        t("calc.conversations_customer_help"),
        format="%.0f",
        step=100.0,
    )
    num("resolution.resolution_rate", t("calc.resolution_rate"), t("calc.resolution_rate_help"))
    num("resolution.cac_per_customer", t("calc.cac_customer"), t("calc.res_cac_help"), step=100.0)
    num(
        "resolution.serving_cost_per_conversation",
        t("calc.serving_conversation"),
        t("calc.serving_conversation_help"),
        format="%.4f",
        step=0.01,
    )
    st.divider()
    num("trend.price_decline_yearly", t("calc.price_decline"), t("calc.price_decline_help"), max_value=99.0)
    num("trend.cost_decline_yearly", t("calc.cost_decline"), t("calc.cost_decline_help"), max_value=99.0)


def _inputs_services() -> None:
    st.toggle(t("calc.model_services"), key=key("services.enabled"), help=t("calc.stream_help"))
    num("services.contracts_per_quarter", t("calc.contracts"), t("calc.contracts_help"), format="%.1f")
    num("services.contract_value", t("calc.contract_value"), t("calc.contract_value_help"), step=5000.0, format="%.0f")
    num("services.delivery_cost_pct", t("calc.delivery"), t("calc.delivery_help"))
    num("services.growth_quarterly", t("calc.growth_q"), t("calc.growth_q_help"))


def _inputs_costs() -> None:
    num("costs.starting_cash", t("calc.cash"), t("calc.cash_help"), step=100_000.0, format="%.0f")
    num("costs.team_monthly", t("calc.team"), t("calc.team_help"), step=5000.0, format="%.0f")
    num("costs.team_growth_monthly", t("calc.team_growth"), t("calc.team_growth_help"))
    num("costs.other_fixed_monthly", t("calc.other_fixed"), t("calc.other_fixed_help"), step=1000.0, format="%.0f")
    num(
        "costs.training_one_off",
        t("calc.training_one_off"),
        t("calc.training_one_off_help"),
        step=1000.0,
        format="%.0f",
    )
    num("months", t("calc.months"), t("calc.months_help"), min_value=1, max_value=eco.MAX_MONTHS)


def pnl_view(s: eco.Scenario):
    pnl = eco.monthly_pnl(s)
    return pnl, eco.break_even_month(pnl), eco.payback_month(pnl), eco.runway_months(pnl)


def _business_metrics(s: eco.Scenario, pnl, be, payback, runway, sub: dict) -> None:
    """Break-even, payback, runway, cash at the end, LTV / CAC and the CAC payback."""
    m = st.columns(3) + st.columns(3)
    m[0].metric(t("calc.break_even"), fmt_months(be, s.months), help=t("calc.break_even_help"), border=True)
    m[1].metric(t("calc.payback"), fmt_months(payback, s.months), help=t("calc.payback_help"), border=True)
    m[2].metric(
        t("calc.runway"),
        fmt_months(None, s.months) if runway is None else t("calc.n_months", n=runway),
        help=t("calc.runway_help"),
        border=True,
    )
    m[3].metric(t("calc.cash_end"), fmt_money(pnl["cash"].iloc[-1]), border=True)
    note_metric(
        m[4],
        "LTV / CAC",
        "—" if sub["ltv_to_cac"] is None else f"{sub['ltv_to_cac']:.1f}×",
        t("calc.ltv", v=fmt_money(sub["ltv"])),
        help=t("calc.ltv_help"),
        border=True,
    )
    m[5].metric(
        t("calc.cac_payback"),
        "—" if sub["cac_payback_months"] is None else t("calc.n_months", n=f"{sub['cac_payback_months']:.1f}"),
        border=True,
    )


def _revenue_figure(pnl: pd.DataFrame) -> go.Figure:
    """Revenue by business model, stacked, and the total costs over it, month by month."""
    fig = go.Figure()
    for column, name, color in (
        ("revenue_subscription", "calc.model_subscription", "#2e7d32"),
        ("revenue_api", "calc.model_api", "#66bb6a"),
        ("revenue_services", "calc.model_services", "#a5d6a7"),
        ("revenue_resolution", "calc.model_resolution", "#00897b"),
    ):
        fig.add_trace(go.Bar(x=pnl["month"], y=pnl[column], name=t(name), marker_color=color))
    fig.update_layout(barmode="stack", title=t("calc.revenue_chart"), xaxis_title=t("calc.month"))
    fig.add_trace(
        go.Scatter(
            x=pnl["month"], y=pnl["revenue"] - pnl["net"], name=t("calc.total_costs"), line=dict(color="#c62828")
        )
    )
    fig.update_layout(legend=dict(orientation="h", y=-0.25), yaxis_tickprefix="$", **CHART)
    return fig


def business_tab() -> None:
    results = st.container()  # results first, inputs below: filled in once the inputs have rendered
    with st.expander(t("calc.assumptions"), expanded=True, icon=":material/tune:"):
        cols = st.columns(5, gap="small")
        for c, title, render in zip(
            cols,
            ("calc.sec_subscription", "calc.sec_api", "calc.sec_resolution", "calc.sec_services", "calc.sec_costs"),
            (_inputs_subscription, _inputs_api, _inputs_resolution, _inputs_services, _inputs_costs),
            strict=False,
        ):
            with c.container(border=True):
                st.markdown(f"**{t(title)}**")
                render()
    s = current_scenario()
    with results:
        try:
            pnl, be, payback, runway = pnl_view(s)
            sub = eco.subscription_metrics(s.subscription)
        except ValueError as exc:
            error_box(exc)
            return
        _business_metrics(s, pnl, be, payback, runway, sub)
        if runway is not None:
            st.error(t("calc.cash_out", month=runway + 1), icon=":material/warning:")
        left, right = st.columns(2)
        left.plotly_chart(_revenue_figure(pnl), width="stretch", key="chart-revenue")
        right.plotly_chart(cash_figure({t("calc.current_inputs"): pnl}, be), width="stretch", key="chart-cash")
        with st.expander(t("calc.pnl_table")):
            frame, config = pnl_table(pnl)
            st.dataframe(frame, hide_index=True, width="stretch", height=300, column_config=config)
        show_how("business")


def pnl_table(pnl: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The monthly P&L for reading: translated column names, whole seats and customers, money as
    dollars, and the gross margin as a percentage ("—" where there is no revenue, so no margin).
    Each column is shown by its unit in eco.PNL_UNITS."""
    shown = pnl.copy()
    for column in shown.columns:
        if eco.PNL_UNITS[column] == "count":
            shown[column] = shown[column].round().astype("int64")
    shown["gross_margin"] = [f"{m:.1%}" if m is not None and np.isfinite(m) else "—" for m in pnl["gross_margin"]]
    labels = {column: t(PNL_KEYS[column]) for column in shown.columns}
    config = {}
    for column, label in labels.items():
        unit = eco.PNL_UNITS[column]
        if unit == "money":
            config[label] = st.column_config.NumberColumn(label, format="dollar", step=1)
        elif unit == "count":
            config[label] = st.column_config.NumberColumn(label, format="localized")
        elif unit == "contracts":
            config[label] = st.column_config.NumberColumn(label, format="%.1f")
    return shown.rename(columns=labels), config


def cash_figure(pnls: dict[str, pd.DataFrame], break_even: int | None = None) -> go.Figure:
    fig = go.Figure()
    for name, pnl in pnls.items():
        fig.add_trace(
            go.Scatter(
                x=pnl["month"],
                y=pnl["cash"],
                name=name,
                mode="lines",
                fill="tozeroy" if len(pnls) == 1 else None,
                line=dict(width=2),
            )
        )
    fig.add_hline(y=0, line=dict(color="#555", width=1))
    if break_even is not None:
        fig.add_vline(
            x=break_even,
            line=dict(color="#2e7d32", dash="dot"),
            annotation_text=t("calc.break_even_at", month=break_even),
        )
    fig.update_layout(
        title=t("calc.cash_chart"),
        xaxis_title=t("calc.month"),
        yaxis_tickprefix="$",
        legend=dict(orientation="h", y=-0.25),
        **CHART,
    )
    return fig


# -- price war ----------------------------------------------------------------------------------
def _per_resolution_war() -> None:
    """Button callback: a price war over resolutions: our price per resolution against Intercom
    Fin's list price, our unit cost = serving cost per conversation / resolution rate, prices
    falling as LLMflation measured."""
    s = current_scenario()
    r = s.resolution
    fin = float(eco.load_resolution_prices()["usd"].iloc[0])
    unit_cost = r.serving_cost_per_conversation / r.resolution_rate if r.resolution_rate > 0 else 0.0
    for path, value in (
        ("price_war.our_price", r.price_per_resolution),
        ("price_war.competitor_start", fin),
        ("price_war.unit_cost", unit_cost),
        ("price_war.decline_yearly", eco.LLMFLATION_YEARLY_DECLINE),
        ("price_war.cut_pct", 0.0),
    ):
        use_value(path, value)
    st.session_state[key("price_war.unit")] = "resolution"


def _falling_prices_inputs() -> None:
    num("price_war.decline_yearly", t("calc.war_decline"), t("calc.war_decline_help"), max_value=99.0)
    st.button(
        t("calc.war_per_resolution"),
        on_click=_per_resolution_war,
        icon=":material/support_agent:",
        help=t("calc.war_per_resolution_help"),
    )


def _price_war_inputs() -> None:
    """Our price, the competitor's cut, the market and how it responds."""
    num("price_war.our_price", t("calc.our_price"), t("calc.our_price_help"), format="%.3f", step=0.1, min_value=0.001)
    num("price_war.cut_pct", t("calc.cut"), t("calc.cut_help"), max_value=99.0)
    num("price_war.cut_month", t("calc.cut_month"), t("calc.cut_month_help"), min_value=1, max_value=120)
    num("price_war.unit_cost", t("calc.unit_cost"), t("calc.unit_cost_help"), format="%.3f", step=0.05)
    num(
        "price_war.market_size",
        t("calc.market_units"),
        t("calc.market_units_help"),
        format="%.0f",
        step=1000.0,
        min_value=1.0,
    )
    num("price_war.base_share", t("calc.base_share"), t("calc.base_share_help"), min_value=0.1, max_value=99.9)
    num("price_war.elasticity", t("calc.elasticity"), t("calc.elasticity_help"), step=0.5)
    num("price_war.market_elasticity", t("calc.market_elasticity"), t("calc.market_elasticity_help"), step=0.1)
    num("price_war.undercut_pct", t("calc.undercut"), t("calc.undercut_help"), max_value=99.0)
    num("price_war.response_lag", t("calc.lag"), t("calc.lag_help"), max_value=24)
    _falling_prices_inputs()


def _response_paths(s: eco.Scenario) -> pd.DataFrame:
    """Each response's month-by-month path (a ValueError for inputs the engine refuses)."""
    return eco.scenario_price_war(s)


def _response_metrics(paths: pd.DataFrame) -> None:
    """Each response's total margin and final share, and the best of them."""
    summary = eco.summarise_responses(paths)
    best = summary.loc[summary["total_margin"].idxmax(), "response"]
    m = st.columns(3)
    for col, row in zip(m, summary.itertuples(), strict=False):
        note_metric(
            col,
            t(RESPONSE_KEYS[row.response]),
            fmt_money(row.total_margin),
            t("calc.final_share", v=f"{row.final_share:.0%}"),
            help=t("calc.margin_total_help"),
        )
    st.success(t("calc.best_response", response=t(RESPONSE_KEYS[best])), icon=":material/emoji_events:")


def _war_figures(paths: pd.DataFrame) -> dict[str, go.Figure]:
    """Our price (with the competitor's), cumulative margin and market share under each response."""
    figures = {name: go.Figure() for name in ("price", "margin", "share")}
    for response, color in RESPONSE_COLORS.items():
        path = paths[paths["response"] == response]
        for name, column in (("price", "our_price"), ("margin", "cumulative_margin"), ("share", "share")):
            figures[name].add_trace(
                go.Scatter(
                    x=path["month"],
                    y=path[column],
                    name=t(RESPONSE_KEYS[response]),
                    mode="lines",
                    line=dict(color=color),
                )
            )
    theirs = paths[paths["response"] == "hold"]
    figures["price"].add_trace(
        go.Scatter(
            x=theirs["month"],
            y=theirs["competitor_price"],
            name=t("calc.competitor"),
            mode="lines",
            line=dict(color="#6d4c41", dash="dash"),
        )
    )
    for name, title, extra in (
        ("price", "calc.price_chart", dict(yaxis_tickprefix="$")),
        ("margin", "calc.margin_chart", dict(yaxis_tickprefix="$")),
        ("share", "calc.share_chart", dict(yaxis_tickformat=".0%")),
    ):
        figures[name].update_layout(
            title=t(title), xaxis_title=t("calc.month"), legend=dict(orientation="h", y=-0.3), **extra, **CHART
        )
    return figures


def _price_war_view(s: eco.Scenario) -> None:
    """Hold, match or undercut: their margins and shares, month by month."""
    if s.price_war.unit == "resolution":
        st.caption(t("calc.war_unit_resolution"))
    try:
        paths = _response_paths(s)
    except ValueError as exc:
        error_box(exc)
        return
    _response_metrics(paths)
    c1, c2 = st.columns(2)
    figures = _war_figures(paths)
    c1.plotly_chart(figures["price"], width="stretch", key="chart-war-price")
    c2.plotly_chart(figures["margin"], width="stretch", key="chart-war-margin")
    st.plotly_chart(figures["share"], width="stretch", key="chart-war-share")
    show_how("war")


def price_war_tab() -> None:
    tab_columns(_price_war_inputs, _price_war_view)


# -- market size --------------------------------------------------------------------------------
def _market_inputs() -> None:
    """Companies, their spend, and the serviceable and obtainable shares."""
    num("market.companies", t("calc.companies"), t("calc.companies_help"), format="%.0f", step=1000.0)
    num("market.spend_per_company_usd", t("calc.spend"), t("calc.spend_help"), format="%.0f", step=1000.0)
    num("market.serviceable_pct", t("calc.serviceable"), t("calc.serviceable_help"))
    num("market.obtainable_pct", t("calc.obtainable"), t("calc.obtainable_help"))


def _market_view(s: eco.Scenario) -> None:
    """TAM, SAM and SOM, their funnel, and the plan's last year beside the SOM."""
    try:
        mk = eco.market_sizing(
            s.market.companies, s.market.spend_per_company_usd, s.market.serviceable_pct, s.market.obtainable_pct
        )
        pnl = eco.monthly_pnl(s)
    except ValueError as exc:
        error_box(exc)
        return
    m = st.columns(3)
    note_metric(m[0], "TAM", fmt_money(mk.tam_usd), t("calc.per_year"))
    note_metric(m[1], "SAM", fmt_money(mk.sam_usd), t("calc.per_year"))
    note_metric(m[2], "SOM", fmt_money(mk.som_usd), t("calc.customers_n", n=fmt_num(mk.som_customers)))
    fig = go.Figure(
        go.Funnel(
            y=["TAM", "SAM", "SOM"],
            x=[mk.tam_usd, mk.sam_usd, mk.som_usd],
            texttemplate="$%{x:,.3s}",
            marker=dict(color=["#a5d6a7", "#66bb6a", "#2e7d32"]),
        )
    )
    fig.update_layout(title=t("calc.funnel"), **CHART)
    st.plotly_chart(fig, width="stretch", key="chart-market")
    for step in mk.steps:
        st.markdown(f"- `{error_text(step['formula'])}`")
    last_year = pnl["revenue"].tail(12).sum()
    if mk.som_usd > 0:
        st.info(
            t("calc.plan_vs_som", revenue=fmt_money(last_year), pct=f"{last_year / mk.som_usd:.0%}"),
            icon=":material/insights:",
        )
    show_how("market")


def market_tab() -> None:
    tab_columns(_market_inputs, _market_view)


# -- risk ---------------------------------------------------------------------------------------
P_AND_L_PARTS = ("months", "api", "subscription", "services", "costs", "uncertainty")


@st.cache_data(max_entries=32, show_spinner=False)
def _monte_carlo(inputs_json: str):
    return eco.scenario_monte_carlo(eco.Scenario.from_dict(json.loads(inputs_json)))


def monte_carlo(s: eco.Scenario):
    """10,000 draws take ~35 ms (vectorised), so the simulation reruns whenever an input of the P&L
    changes; keyed on those inputs only, so changing a training or serving input costs nothing here."""
    data = s.to_dict()
    return _monte_carlo(json.dumps({k: data[k] for k in P_AND_L_PARTS}, sort_keys=True))


METRIC_KEYS = ["break_even_month", "payback_month", "cash_at_end"]


def _risk_inputs() -> str:
    """The metric, the swing, the "within N months" and the number of draws; returns the metric."""
    c1, c2, c3, c4 = st.columns(4)
    tr = run_t()
    metric = c1.selectbox(
        t("calc.risk_metric"),
        METRIC_KEYS,
        format_func=lambda m: tr(METRIC_LABEL_KEYS[m]),
        key="calc.risk_metric",
        help=t("calc.risk_metric_help"),
    )
    num("uncertainty.swing", t("calc.swing"), t("calc.swing_help"), c2, min_value=1.0, max_value=90.0)
    # "Within N months" asks about the plan, so N is at most its length (the engine refuses more).
    months = int(st.session_state.get(key("months")) or eco.Scenario().months)
    within = key("uncertainty.within_months")
    if (st.session_state.get(within) or 0) > months:
        st.session_state[within] = months
        inputs_changed()
    num(
        "uncertainty.within_months",
        t("calc.within"),
        t("calc.within_help", n=months),
        c3,
        min_value=1,
        max_value=months,
    )
    num("uncertainty.draws", t("calc.draws"), t("calc.draws_help"), c4, min_value=100, max_value=100_000, step=1000)
    return metric


def _tornado(tor: pd.DataFrame, s: eco.Scenario, metric: str) -> None:
    """How far the metric moves when each input is `swing` lower or higher."""
    if tor.empty:
        st.info(t("calc.no_drivers"))
        return
    base = float(tor["base_metric"].iloc[0])
    tor = tor.iloc[::-1]
    labels = [driver_label(p) for p in tor["driver"]]
    fig = go.Figure()
    swing = f"{s.uncertainty.swing:.0%}"
    for column, name, color in (
        ("metric_low", t("calc.input_low", pct=swing), "#ef9a9a"),
        ("metric_high", t("calc.input_high", pct=swing), "#a5d6a7"),
    ):
        fig.add_trace(go.Bar(y=labels, x=tor[column] - base, base=base, orientation="h", name=name, marker_color=color))
    fig.update_layout(
        barmode="overlay",
        title=t("calc.tornado", metric=t(METRIC_LABEL_KEYS[metric])),
        legend=dict(orientation="h", y=-0.2),
        **CHART,
    )
    st.plotly_chart(fig, width="stretch", key="chart-tornado")
    if metric != "cash_at_end":
        st.caption(t("calc.censored", n=s.months + 1))


def _monte_carlo_results(mc) -> None:
    """The break-even month's P10 / P50 / P90, the chance within N months, and its distribution."""
    m = st.columns(4)
    m[0].metric("P10", fmt_months(mc.p10, mc.months))
    m[1].metric("P50", fmt_months(mc.p50, mc.months))
    m[2].metric("P90", fmt_months(mc.p90, mc.months))
    m[3].metric(t("calc.p_within", n=mc.within_months), f"{mc.probability_within:.0%}")
    st.caption(t("calc.mc_cash", p=f"{mc.probability_cash_runs_out:.0%}", never=f"{mc.probability_never:.0%}"))
    months = pd.Series(mc.break_even_months)
    counts = months.value_counts().sort_index()
    labels = [str(m) if m <= mc.months else t("calc.never_short") for m in counts.index]
    fig = go.Figure(go.Bar(x=labels, y=counts.values / mc.draws, marker_color="#66bb6a"))
    fig.update_layout(
        title=t("calc.mc_chart", n=f"{mc.draws:,}"),
        xaxis_title=t("calc.break_even"),
        yaxis_tickformat=".0%",
        **CHART,
    )
    st.plotly_chart(fig, width="stretch", key="chart-mc")


def risk_tab() -> None:
    metric = _risk_inputs()
    s = current_scenario()
    try:
        tor = eco.tornado(s, metric=metric, swing=s.uncertainty.swing)
    except ValueError as exc:
        error_box(exc)
        return
    left, right = st.columns(2, gap="large")
    with left:
        _tornado(tor, s, metric)
    with right:
        try:
            mc = monte_carlo(s)
        except ValueError as exc:
            error_box(exc)
            return
        _monte_carlo_results(mc)
    show_how("risk")

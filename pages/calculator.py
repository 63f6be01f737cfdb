"""Cost & market calculator: training, serving, unit economics, capacity, business models, price war, market
size, risk, scenarios and the investor summary. Every number comes from core.economics."""

import time

import streamlit as st

from ui import page_setup, require, t
from ui_calc import business, capacity, compare, tech
from ui_calc.common import init_state, scenario_bar

# each tab's title
TAB_KEYS = {
    "business": "calc.tab_business",
    "calibration": "calc.tab_calibration",
    "capacity": "calc.tab_capacity",
    "compare": "calc.tab_compare",
    "market": "calc.tab_market",
    "risk": "calc.tab_risk",
    "serve": "calc.tab_serve",
    "train": "calc.tab_train",
    "units": "calc.tab_units",
    "war": "calc.tab_war",
}

page_setup()
require("calculator")
started = time.perf_counter()
init_state()
st.title(t("calc.title"))
st.caption(t("calc.caption"))
scenario_bar()

parts = [
    ("train", tech.training_tab),
    ("serve", tech.serving_tab),
    ("units", business.unit_economics_tab),
    ("capacity", capacity.capacity_tab),
    ("business", business.business_tab),
    ("war", business.price_war_tab),
    ("market", business.market_tab),
    ("risk", business.risk_tab),
    ("compare", compare.compare_tab),
    ("calibration", compare.calibration_tab),
]
timings = {}
for tab, (name, render) in zip(st.tabs([t(TAB_KEYS[name]) for name, _ in parts]), parts, strict=False):
    with tab:
        tab_started = time.perf_counter()
        render()
        timings[name] = round((time.perf_counter() - tab_started) * 1000, 1)

# How long this run took to compute and lay out every tab (bench/calculator_page.py reads it).
st.session_state["calc.render_ms"] = round((time.perf_counter() - started) * 1000, 1)
st.session_state["calc.render_ms_by_tab"] = timings

"""Inputs' defaults, number formatting, the scenario bar and the "how is this calculated" boxes."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from core import economics as eco
from core.economics.scenario_names import scenario_name
from core.i18n import translate as i18n
from core.storage.scenarios import ScenarioStore
from ui import lang, settings, t

# each tab's "How is this calculated?" text
HOW_KEYS = {
    "business": "calc.how_business",
    "capacity": "calc.how_capacity",
    "market": "calc.how_market",
    "risk": "calc.how_risk",
    "serve": "calc.how_serve",
    "train": "calc.how_train",
    "units": "calc.how_units",
    "war": "calc.how_war",
}

# The page's state IS a core.economics.Scenario: one widget per input, keyed "calc:<dotted path>",
# shown in friendlier units (billions of parameters, percentages) and converted back on read.
SCALES = {"training.params": 1e9, "training.tokens": 1e9, "serving.params": 1e9, "serving.total_params": 1e9}
PERCENT = {
    "mfu",
    "owned_utilisation",
    "target_utilisation",
    "churn_monthly",
    "growth_monthly",
    "customer_growth_monthly",
    "team_growth_monthly",
    "growth_quarterly",
    "delivery_cost_pct",
    "serviceable_pct",
    "obtainable_pct",
    "cut_pct",
    "base_share",
    "undercut_pct",
    "swing",
    "lora_fraction",
    "tier1_share",
    "tier2_share",
    "right_rate",
    "handover_rate",
    "wrong_rate",
    "resolution_rate",
    "price_decline_yearly",
    "cost_decline_yearly",
    "decline_yearly",
}
ZERO_IS_NONE = {"serving.layers", "serving.kv_heads", "serving.head_dim"}
# Allowed values for choice inputs (filled in by the tabs).
OPTIONS: dict[str, list] = {}


def key(path: str) -> str:
    return "calc:" + path


def _leaves(obj, prefix: str = ""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, prefix + f.name + ".")
        elif f.name not in ("name", "version", "ranges"):
            yield prefix + f.name, value


def _scale(path: str) -> float:
    return 100.0 if path.rsplit(".", 1)[-1] in PERCENT else 1 / SCALES.get(path, 1)


def to_widget(path: str, value):
    if value is None:
        return 0 if path in ZERO_IS_NONE else None
    if isinstance(value, (bool, str)):
        return value
    scaled = value * _scale(path)
    return int(round(scaled)) if isinstance(value, int) else float(scaled)


def from_widget(path: str, value):
    if value is None or (path in ZERO_IS_NONE and value == 0):
        return None
    if isinstance(value, (bool, str)):
        return value
    return value / _scale(path) if not isinstance(value, int) or _scale(path) != 1 else value


def apply_scenario(scenario: eco.Scenario) -> None:
    """Set every widget from a scenario (call before the widgets render, e.g. in a callback)."""
    for path, value in _leaves(scenario):
        if path in OPTIONS and value not in OPTIONS[path]:
            value = _leaves_default()[path]  # e.g. a GPU no longer in the catalogue
        st.session_state[key(path)] = to_widget(path, value)


def _leaves_default() -> dict:
    return dict(_leaves(eco.Scenario()))


SCENARIO_MEMO = "calc.scenario_this_run"


def init_state() -> None:
    for path, value in _leaves(eco.Scenario()):
        st.session_state.setdefault(key(path), to_widget(path, value))
    inputs_changed()  # a new run: the inputs may have changed


def current_scenario() -> eco.Scenario:
    """The scenario the widgets describe now: built once per run (inputs only change between runs,
    in callbacks and widgets), shared by every tab; callers make changed copies (Scenario.replace)."""
    memo = st.session_state.get(SCENARIO_MEMO)
    if memo is None:
        memo = st.session_state[SCENARIO_MEMO] = _scenario_from_widgets()
    return memo


def inputs_changed() -> None:
    """Call after setting an input during a run: the next current_scenario() reads the widgets again."""
    st.session_state.pop(SCENARIO_MEMO, None)


def _scenario_from_widgets() -> eco.Scenario:
    data: dict = {}
    for path, _ in _leaves(eco.Scenario()):
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = from_widget(path, st.session_state.get(key(path)))
    return eco.Scenario.from_dict(data)


def inputs_snapshot() -> dict:
    return current_scenario().to_dict()


# Labels the calculator gives things that are not saved scenarios (the current inputs, the comparison
# sheet of the Excel export): a scenario with one of those names would be mistaken for them.
RESERVED_LABELS = ("calc.current_inputs", "calc.sheet_compare")


def scenario_store(db_path) -> ScenarioStore:
    """The saved scenarios, with the calculator's rule for their names."""
    reserved = i18n.in_every_language(*RESERVED_LABELS)
    return ScenarioStore(db_path, check_name=lambda name: scenario_name(name, reserved))


@st.cache_resource(show_spinner=False)
def _store(db_path):
    return scenario_store(db_path)


def store() -> ScenarioStore:
    return _store(settings().db_path)


def saved_scenario(name: str) -> eco.Scenario:
    """A saved scenario; an InputError when it is gone, a ValueError when it no longer fits."""
    inputs = store().load(name)
    if inputs is None:
        raise eco.InputError("no_saved", name=name)
    return eco.Scenario.from_dict(inputs)


def _load(name: str) -> None:
    try:
        apply_scenario(saved_scenario(name))
    except ValueError as exc:  # a damaged or incompatible saved scenario: say so, change nothing
        st.session_state["calc.flash"] = ("error", error_text(exc))
        return
    st.session_state["calc.current"] = name
    st.session_state["calc.flash"] = ("success", t("calc.loaded", name=name))


def _save() -> None:
    name = st.session_state.get("calc.save_name", "")
    try:
        name = store().save(name, inputs_snapshot() | {"name": name.strip()})
    except ValueError as exc:
        st.session_state["calc.flash"] = ("error", error_text(exc))
        return
    st.session_state["calc.current"] = name
    st.session_state["calc.flash"] = ("success", t("calc.saved", name=name))


def _reset() -> None:
    apply_scenario(eco.Scenario())
    st.session_state["calc.current"] = None


def scenario_bar() -> None:
    """Sidebar: load, save, delete scenarios; reset to defaults."""
    with st.sidebar:
        st.subheader(t("calc.scenarios"), divider="gray")
        names = store().names()
        current = st.session_state.get("calc.current")
        st.caption(t("calc.current", name=current) if current else t("calc.unsaved"))
        if names:
            chosen = st.selectbox(t("calc.saved_scenarios"), names, key="calc.pick")
            c1, c2 = st.columns(2)
            c1.button(t("calc.load"), on_click=_load, args=(chosen,), icon=":material/folder_open:", width="stretch")
            if c2.button(t("calc.delete"), icon=":material/delete:", width="stretch"):
                store().delete(chosen)
                st.rerun()
        st.text_input(t("calc.scenario_name"), key="calc.save_name", max_chars=80, placeholder=t("calc.name_ph"))
        c1, c2 = st.columns(2)
        c1.button(t("calc.save"), on_click=_save, icon=":material/save:", type="primary", width="stretch")
        c2.button(t("calc.reset"), on_click=_reset, icon=":material/restart_alt:", width="stretch")
        flash = st.session_state.pop("calc.flash", None)
        if flash:
            (st.success if flash[0] == "success" else st.error)(flash[1])


def run_t():
    """t() fixed to this run's language, for format_func callbacks (Streamlit may call them later,
    e.g. when a test replays the widgets, outside this run's session)."""
    code = lang()
    return lambda key, **kwargs: i18n.t(key, code, **kwargs)


def error_text(exc) -> str:
    """An engine error or message (core.economics.InputError / Message) in the UI language."""
    return eco.localise(exc, t)


def error_box(exc: Exception) -> None:
    st.error(f"{t('calc.fix_input')} {error_text(exc)}", icon=":material/error:")


def use_value(path: str, value: float) -> None:
    """Button callback: copy a result into an input (e.g. a cost into the business model)."""
    st.session_state[key(path)] = to_widget(path, round(value, 4))
    st.session_state["calc.flash"] = ("success", t("calc.used"))


def show_how(part: str) -> None:
    with st.expander(t("calc.how"), icon=":material/functions:"):
        st.markdown(t(HOW_KEYS[part]))


def money_help(gpu) -> str:
    if gpu.usd_per_hour:
        return t("calc.rate_help", price=f"${gpu.usd_per_hour:.2f}", date=gpu.price_date or "?")
    return t("calc.rate_help_none")


def tab_columns(inputs: Callable[[], None], results: Callable[[eco.Scenario], None]) -> None:
    """A tab's usual layout: its inputs in the left third, then its results for the scenario they
    describe in the right two thirds."""
    left, right = st.columns([1, 2], gap="large")
    with left:
        inputs()
    scenario = current_scenario()
    with right:
        results(scenario)


def number_field(path: str, label: str, help: str, container=st, **limits) -> None:
    """A number input for a scenario path, with exactly the limits and format given."""
    container.number_input(label, key=key(path), help=help, **limits)


def note_metric(container, label: str, value, note, **kwargs) -> None:
    """A metric whose delta is a note beside the value, not a change: no colour, no arrow."""
    container.metric(label, value, note, delta_color="off", delta_arrow="off", **kwargs)


def number_table(columns: dict, formats: dict[str, str]) -> None:
    """A full-width table without index from `columns` (label: values); the columns named in
    `formats` are shown as numbers in their format."""
    column_config = {label: st.column_config.NumberColumn(format=fmt) for label, fmt in formats.items()}
    st.dataframe(pd.DataFrame(columns), hide_index=True, width="stretch", column_config=column_config)


# -- formatting: never NaN or inf on screen ---------------------------------------------------
def _finite(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def fmt_money(value, cents: bool = False) -> str:
    if not _finite(value):
        return "—"
    sign, value = ("-" if value < 0 else ""), abs(value)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{sign}${value / size:,.2f}{unit}"
    return f"{sign}${value:,.{3 if cents and value < 1 else 2}f}"


def fmt_num(value, digits: int = 3) -> str:
    if not _finite(value):
        return "—"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:,.{digits - 1}f}{unit}"
    return f"{value:,.{0 if abs(value) >= 100 else 1}f}"


def fmt_flops(value) -> str:
    if not _finite(value) or value <= 0:
        return "—"
    exponent = int(math.floor(math.log10(value)))
    return f"{value / 10**exponent:.2f}e{exponent}"


def fmt_days(days) -> str:
    if not _finite(days):
        return "—"
    if days < 1:
        return t("calc.hours", n=f"{days * 24:,.1f}")
    return t("calc.days", n=f"{days:,.1f}")


def fmt_months(months, horizon: int | None = None) -> str:
    """A month number; None means "not within the plan", shown as "> 36 mo"."""
    if months is None:
        return t("calc.after_plan", n=horizon) if horizon else t("calc.never")
    return t("calc.month_n", n=int(months))

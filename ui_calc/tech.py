"""Training and serving tabs: what a model costs to train or fine-tune, and to serve."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import economics as eco
from ui import t
from ui_calc.common import (
    OPTIONS,
    error_box,
    error_text,
    fmt_days,
    fmt_flops,
    fmt_money,
    fmt_num,
    key,
    money_help,
    note_metric,
    number_field,
    run_t,
    show_how,
    tab_columns,
    use_value,
)

# the training methods' names
JOB_KEYS = {
    "full": "calc.job_full",
    "lora": "calc.job_lora",
    "pretrain": "calc.job_pretrain",
    "qlora": "calc.job_qlora",
}

GPUS = eco.load_gpus()
GPU_NAMES = list(GPUS)
METHODS = ["pretrain", *eco.FINETUNE_METHODS]
OPTIONS.update(
    {
        "training.gpu": GPU_NAMES,
        "serving.gpu": GPU_NAMES,
        "training.method": METHODS,
        "serving.precision": list(eco.PRECISION_BYTES),
        "serving.kv_precision": list(eco.PRECISION_BYTES),
    }
)
CHART = dict(height=320, margin=dict(t=40, b=0, l=0, r=0))


def gpu_label(name: str) -> str:
    g = GPUS[name]
    price = f" · ${g.usd_per_hour:.2f}/h" if g.usd_per_hour else ""
    return f"{name} ({g.memory_gb:g} GB{price})"


BREAKDOWN_KEYS = {
    "hardware amortisation": "calc.cost_amortisation",
    "energy": "calc.cost_energy",
    "GPU rental": "calc.cost_rental",
}


def percent_slider(path: str, label: str, help: str, low: float, step: float, container=st) -> None:
    """A slider from `low` to 100 %, for a share the scenario keeps as a fraction."""
    container.slider(label, low, 100.0, step=step, key=key(path), format="%.0f%%", help=help)


def params_input(path: str, help: str) -> None:
    """The model's size, in billions of parameters."""
    number_field(path, t("calc.params_b"), help, min_value=0.001, max_value=100_000.0, step=1.0, format="%.3f")


def gpu_select(path: str) -> None:
    """The GPU, from the catalogue, labelled with its memory and price."""
    st.selectbox(t("calc.gpu"), GPU_NAMES, format_func=gpu_label, key=key(path), help=t("calc.gpu_help"))


def rental_input(path: str, gpu: eco.GPU) -> None:
    """What one GPU hour costs; empty means the catalogue's price for `gpu`."""
    number_field(
        path,
        t("calc.usd_per_gpu_hour"),
        money_help(gpu),
        min_value=0.0,
        max_value=1000.0,
        step=0.1,
        placeholder=t("calc.catalogue_price"),
    )


def fit_metric(container, label: str, value, fits: bool, otherwise: str) -> None:
    """A metric noting whether the model fits in one GPU's memory (green) or not (red)."""
    container.metric(label, value, t("calc.fits") if fits else otherwise, delta_color="normal" if fits else "inverse")


# -- training -----------------------------------------------------------------------------------
def _training_inputs() -> None:
    """The job, model, tokens, GPUs and how they are paid for."""
    st.radio(
        t("calc.job"),
        METHODS,
        key=key("training.method"),
        horizontal=True,
        format_func=lambda m, tr=run_t(): tr(JOB_KEYS[m]),
        help=t("calc.job_help"),
    )
    params_input("training.params", t("calc.params_help"))
    number_field(
        "training.tokens",
        t("calc.tokens_b"),
        t("calc.tokens_help"),
        min_value=0.000001,
        max_value=1_000_000.0,
        step=1.0,
        format="%.3f",
    )
    gpu_select("training.gpu")
    number_field("training.gpus", t("calc.gpus"), t("calc.gpus_help"), min_value=1, max_value=1_000_000, step=8)
    percent_slider("training.mfu", t("calc.mfu"), t("calc.mfu_help"), low=1.0, step=1.0)
    owned = st.toggle(t("calc.owned"), key=key("training.owned"), help=t("calc.owned_help"))
    gpu = GPUS[st.session_state[key("training.gpu")]]
    if not owned:
        rental_input("training.usd_per_gpu_hour", gpu)
    else:
        _owned_inputs(gpu)


def _owned_inputs(gpu: eco.GPU) -> None:
    """Owned hardware: its price, years of amortisation, PUE, electricity and utilisation."""
    number_field(
        "training.purchase_usd_per_gpu",
        t("calc.purchase"),
        t("calc.purchase_help", price=fmt_money(gpu.purchase_usd)),
        min_value=0.0,
        step=1000.0,
        placeholder=t("calc.catalogue_price"),
    )
    c1, c2 = st.columns(2)
    number_field(
        "training.amortisation_years",
        t("calc.years"),
        t("calc.years_help"),
        c1,
        min_value=0.5,
        max_value=15.0,
        step=0.5,
    )
    number_field("training.pue", t("calc.pue"), t("calc.pue_help"), c2, min_value=1.0, max_value=3.0, step=0.05)
    number_field(
        "training.usd_per_kwh",
        t("calc.kwh"),
        t("calc.kwh_help"),
        c1,
        min_value=0.0,
        max_value=2.0,
        step=0.01,
        format="%.3f",
    )
    percent_slider(
        "training.owned_utilisation", t("calc.hw_util"), t("calc.hw_util_help"), low=5.0, step=5.0, container=c2
    )


def _training_results(scenario: eco.Scenario, est) -> None:
    """The estimate's numbers, its notes, and the button that copies its cost into the P&L."""
    tr = scenario.training
    st.subheader(t(JOB_KEYS[tr.method]))
    m = st.columns(4)
    m[0].metric(t("calc.flops"), fmt_flops(est.flops))
    m[1].metric(t("calc.gpu_hours"), fmt_num(est.gpu_hours))
    m[2].metric(t("calc.wall"), fmt_days(est.wall_days))
    m[3].metric(t("calc.cost"), fmt_money(est.cost_usd))
    if tr.method == "pretrain":
        ratio = tr.tokens / est.compute_optimal_tokens
        st.info(
            t("calc.chinchilla", tokens=fmt_num(est.compute_optimal_tokens / 1e9), ratio=f"{ratio:.1f}"),
            icon=":material/lightbulb:",
        )
    else:
        fit_metric(
            st, t("calc.ft_memory"), f"{est.memory_gb:,.0f} GB", est.fits, t("calc.needs_gpus", n=est.gpus_for_memory)
        )
    if est.pricing == "owned" and est.cost_breakdown:
        st.caption(
            " · ".join(
                f"{t(BREAKDOWN_KEYS[k]) if k in BREAKDOWN_KEYS else k}: {fmt_money(v)}"
                for k, v in est.cost_breakdown.items()
            )
        )
    for note in est.notes:
        st.warning(error_text(note), icon=":material/warning:")
    if est.cost_usd is not None:
        # The P&L deducts the business model's training cost; this copies the estimate there.
        st.button(
            t("calc.use_training_cost", v=fmt_money(est.cost_usd)),
            icon=":material/input:",
            on_click=use_value,
            args=("costs.training_one_off", est.cost_usd),
            key="calc.use_training",
        )
        st.caption(t("calc.training_in_pnl", v=fmt_money(scenario.costs.training_one_off)))


def _gpu_cost_figure(scenario: eco.Scenario) -> go.Figure:
    """The same job on every GPU in the catalogue: where the money and the days go."""
    tr = scenario.training
    rows = []
    for name in GPU_NAMES:
        try:
            e = eco.scenario_training(scenario, gpu=name)
        except ValueError:
            continue
        if e.cost_usd is not None:
            rows.append({"GPU": name, "cost": e.cost_usd, "days": e.wall_days})
    frame = pd.DataFrame(rows).sort_values("cost")
    fig = go.Figure(
        go.Bar(
            x=frame["GPU"],
            y=frame["cost"],
            customdata=frame["days"],
            hovertemplate="%{x}: $%{y:,.0f}, %{customdata:,.1f} " + t("calc.wall_days") + "<extra></extra>",
            marker_color=["#2e7d32" if g == tr.gpu else "#a5d6a7" for g in frame["GPU"]],
        )
    )
    fig.update_layout(title=t("calc.same_job", gpus=tr.gpus), yaxis_tickprefix="$", yaxis_title=t("calc.cost"), **CHART)
    return fig


def _training_view(scenario: eco.Scenario) -> None:
    """The training estimate, and the same job on every GPU in the catalogue."""
    try:
        est = eco.scenario_training(scenario)
    except ValueError as exc:
        error_box(exc)
        return
    _training_results(scenario, est)
    st.plotly_chart(_gpu_cost_figure(scenario), width="stretch", key="chart-train-gpus")
    show_how("train")


def training_tab() -> None:
    tab_columns(_training_inputs, _training_view)


# -- serving ------------------------------------------------------------------------------------
def _serving_inputs() -> None:
    """Model, GPU, precision, batch, request sizes, utilisation, price and model shape."""
    params_input("serving.params", t("calc.params_active_help"))
    gpu_select("serving.gpu")
    st.radio(
        t("calc.precision"),
        list(eco.PRECISION_BYTES),
        horizontal=True,
        key=key("serving.precision"),
        help=t("calc.precision_help"),
    )
    c1, c2 = st.columns(2)
    number_field("serving.batch", t("calc.batch"), t("calc.batch_help"), c1, min_value=1, max_value=4096)
    number_field(
        "serving.context",
        t("calc.context"),
        t("calc.context_help"),
        c2,
        min_value=1,
        max_value=2_000_000,
        step=1024,
    )
    for container, path, label, help, step in (
        (c1, "usage.input_tokens", "calc.req_in", "calc.req_in_help", 100.0),
        (c2, "usage.output_tokens", "calc.req_out", "calc.req_out_help", 50.0),
    ):
        number_field(path, t(label), t(help), container, min_value=1.0, max_value=1_000_000.0, step=step, format="%.0f")
    percent_slider("serving.target_utilisation", t("calc.serve_util"), t("calc.serve_util_help"), low=5.0, step=5.0)
    rental_input("serving.usd_per_gpu_hour", GPUS[st.session_state[key("serving.gpu")]])
    with st.expander(t("calc.shape")):
        st.caption(t("calc.shape_help"))
        number_field("serving.layers", t("calc.layers"), t("calc.layers_help"), min_value=0, max_value=1000)
        number_field("serving.kv_heads", t("calc.kv_heads"), t("calc.kv_heads_help"), min_value=0, max_value=1000)
        number_field("serving.head_dim", t("calc.head_dim"), t("calc.head_dim_help"), min_value=0, max_value=4096)


def _serving_metrics(sv) -> None:
    """Memory, GPUs per copy, decode speed and the price of a million output tokens."""
    st.subheader(t("calc.serve_result"))
    m = st.columns(4)
    note_metric(
        m[0],
        t("calc.memory"),
        f"{sv.total_gb:,.1f} GB",
        t("calc.weights_kv", w=f"{sv.weights_gb:,.1f}", kv=f"{sv.kv_cache_gb:,.2f}"),
    )
    fit_metric(m[1], t("calc.gpus_needed"), sv.gpus_needed, sv.fits, t("calc.split", n=sv.gpus_needed))
    note_metric(
        m[2],
        t("calc.decode"),
        f"{sv.decode_tok_s:,.0f} tok/s",
        t("calc.per_user", v=f"{sv.decode_tok_s_per_sequence:,.1f}"),
    )
    note_metric(
        m[3],
        t("calc.usd_per_m_out"),
        fmt_money(sv.usd_per_million_output_tokens, cents=True),
        t("calc.ttft", v=f"{sv.ttft_s:,.2f}"),
    )
    if not sv.fits:
        st.warning(
            t("calc.no_fit", total=f"{sv.total_gb:,.1f}", gpu=sv.gpu, n=sv.gpus_needed), icon=":material/warning:"
        )
    if sv.shape_estimated:
        st.caption(t("calc.shape_estimated", model=sv.shape_source))


def _roofline_figure(scenario: eco.Scenario, sv) -> go.Figure:
    """Decode speed and the price of a million output tokens against the batch size."""
    rows = []
    for b in sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, sv.batch}):
        try:
            e = eco.scenario_serving(scenario, batch=b)
        except ValueError:
            continue
        rows.append({"batch": b, "tok_s": e.decode_tok_s, "usd": e.usd_per_million_output_tokens})
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frame["batch"],
            y=frame["tok_s"],
            name=t("calc.decode"),
            mode="lines+markers",
            line=dict(color="#2e7d32"),
        )
    )
    if frame["usd"].notna().all():
        fig.add_trace(
            go.Scatter(
                x=frame["batch"],
                y=frame["usd"],
                name=t("calc.usd_per_m_out"),
                yaxis="y2",
                mode="lines+markers",
                line=dict(color="#c62828", dash="dot"),
            )
        )
    fig.update_layout(
        title=t("calc.roofline_chart"),
        xaxis=dict(type="log", title=t("calc.batch")),
        yaxis=dict(title="tok/s"),
        yaxis2=dict(title="$ / 1M", overlaying="y", side="right", type="log"),
        legend=dict(orientation="h", y=-0.25),
        **CHART,
    )
    return fig


def _api_comparison(scenario: eco.Scenario, sv) -> None:
    """Self-hosting's price per million tokens beside the hosted APIs'."""
    st.subheader(t("calc.vs_api"))
    table = eco.compare_with_api(
        sv.usd_per_million_input_tokens,
        sv.usd_per_million_output_tokens,
        scenario.usage.input_tokens,
        scenario.usage.output_tokens,
    )
    table["model"] = table["model"].replace({"Self-hosted": t("calc.self_hosted_on", gpu=sv.gpu)})
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "model": t("calc.col_model"),
            "provider": t("calc.col_provider"),
            "input_usd_per_1m": st.column_config.NumberColumn(t("calc.col_in"), format="$%.3f"),
            "output_usd_per_1m": st.column_config.NumberColumn(t("calc.col_out"), format="$%.3f"),
            "blended_usd_per_1m": st.column_config.NumberColumn(t("calc.col_blended"), format="$%.3f"),
            "usd_per_1k_requests": st.column_config.NumberColumn(t("calc.col_per_1k"), format="$%.4f"),
        },
    )
    st.caption(t("calc.price_source", source=eco.PRICE_SOURCE, date=eco.PRICE_DATE))


def _serving_view(scenario: eco.Scenario) -> None:
    """The serving estimate, the batch-size chart, hosted APIs beside it and the working."""
    try:
        sv = eco.scenario_serving(scenario)
    except ValueError as exc:
        error_box(exc)
        return
    _serving_metrics(sv)
    st.plotly_chart(_roofline_figure(scenario, sv), width="stretch", key="chart-roofline")

    _api_comparison(scenario, sv)
    with st.expander(t("calc.working")):
        st.markdown("\n".join(f"- {error_text(line)}".replace("$", "\\$") for line in sv.explanation))
    show_how("serve")


def serving_tab() -> None:
    tab_columns(_serving_inputs, _serving_view)

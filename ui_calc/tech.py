"""Training and serving tabs: what a model costs to train or fine-tune, and to serve."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import economics as eco
from ui import t
from ui_calc.common import (
    OPTIONS,
    current_scenario,
    error_box,
    error_text,
    fmt_days,
    fmt_flops,
    fmt_money,
    fmt_num,
    key,
    money_help,
    run_t,
    show_how,
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


def training_tab() -> None:
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.radio(
            t("calc.job"),
            METHODS,
            key=key("training.method"),
            horizontal=True,
            format_func=lambda m, tr=run_t(): tr(JOB_KEYS[m]),
            help=t("calc.job_help"),
        )
        st.number_input(
            t("calc.params_b"),
            min_value=0.001,
            max_value=100_000.0,
            step=1.0,
            format="%.3f",
            key=key("training.params"),
            help=t("calc.params_help"),
        )
        st.number_input(
            t("calc.tokens_b"),
            min_value=0.000001,
            max_value=1_000_000.0,
            step=1.0,
            format="%.3f",
            key=key("training.tokens"),
            help=t("calc.tokens_help"),
        )
        st.selectbox(t("calc.gpu"), GPU_NAMES, format_func=gpu_label, key=key("training.gpu"), help=t("calc.gpu_help"))
        st.number_input(
            t("calc.gpus"), min_value=1, max_value=1_000_000, step=8, key=key("training.gpus"), help=t("calc.gpus_help")
        )
        st.slider(
            t("calc.mfu"), 1.0, 100.0, step=1.0, key=key("training.mfu"), format="%.0f%%", help=t("calc.mfu_help")
        )
        owned = st.toggle(t("calc.owned"), key=key("training.owned"), help=t("calc.owned_help"))
        gpu = GPUS[st.session_state[key("training.gpu")]]
        if not owned:
            st.number_input(
                t("calc.usd_per_gpu_hour"),
                min_value=0.0,
                max_value=1000.0,
                step=0.1,
                key=key("training.usd_per_gpu_hour"),
                placeholder=t("calc.catalogue_price"),
                help=money_help(gpu),
            )
        else:
            st.number_input(
                t("calc.purchase"),
                min_value=0.0,
                step=1000.0,
                key=key("training.purchase_usd_per_gpu"),
                placeholder=t("calc.catalogue_price"),
                help=t("calc.purchase_help", price=fmt_money(gpu.purchase_usd)),
            )
            c1, c2 = st.columns(2)
            c1.number_input(
                t("calc.years"),
                min_value=0.5,
                max_value=15.0,
                step=0.5,
                key=key("training.amortisation_years"),
                help=t("calc.years_help"),
            )
            c2.number_input(
                t("calc.pue"), min_value=1.0, max_value=3.0, step=0.05, key=key("training.pue"), help=t("calc.pue_help")
            )
            c1.number_input(
                t("calc.kwh"),
                min_value=0.0,
                max_value=2.0,
                step=0.01,
                format="%.3f",
                key=key("training.usd_per_kwh"),
                help=t("calc.kwh_help"),
            )
            c2.slider(
                t("calc.hw_util"),
                5.0,
                100.0,
                step=5.0,
                key=key("training.owned_utilisation"),
                format="%.0f%%",
                help=t("calc.hw_util_help"),
            )
    scenario = current_scenario()
    tr = scenario.training
    with right:
        try:
            est = eco.scenario_training(scenario)
        except ValueError as exc:
            error_box(exc)
            return
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
            st.metric(
                t("calc.ft_memory"),
                f"{est.memory_gb:,.0f} GB",
                t("calc.fits") if est.fits else t("calc.needs_gpus", n=est.gpus_for_memory),
                delta_color="normal" if est.fits else "inverse",
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
        # The same job on every GPU in the catalogue: where the money and the days go.
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
        fig.update_layout(
            title=t("calc.same_job", gpus=tr.gpus), yaxis_tickprefix="$", yaxis_title=t("calc.cost"), **CHART
        )
        st.plotly_chart(fig, width="stretch", key="chart-train-gpus")
        show_how("train")


def serving_tab() -> None:
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.number_input(
            t("calc.params_b"),
            min_value=0.001,
            max_value=100_000.0,
            step=1.0,
            format="%.3f",
            key=key("serving.params"),
            help=t("calc.params_active_help"),
        )
        st.selectbox(t("calc.gpu"), GPU_NAMES, format_func=gpu_label, key=key("serving.gpu"), help=t("calc.gpu_help"))
        st.radio(
            t("calc.precision"),
            list(eco.PRECISION_BYTES),
            horizontal=True,
            key=key("serving.precision"),
            help=t("calc.precision_help"),
        )
        c1, c2 = st.columns(2)
        c1.number_input(
            t("calc.batch"), min_value=1, max_value=4096, key=key("serving.batch"), help=t("calc.batch_help")
        )
        c2.number_input(
            t("calc.context"),
            min_value=1,
            max_value=2_000_000,
            step=1024,
            key=key("serving.context"),
            help=t("calc.context_help"),
        )
        c1.number_input(
            t("calc.req_in"),
            min_value=1.0,
            max_value=1_000_000.0,
            step=100.0,
            format="%.0f",
            key=key("usage.input_tokens"),
            help=t("calc.req_in_help"),
        )
        c2.number_input(
            t("calc.req_out"),
            min_value=1.0,
            max_value=1_000_000.0,
            step=50.0,
            format="%.0f",
            key=key("usage.output_tokens"),
            help=t("calc.req_out_help"),
        )
        st.slider(
            t("calc.serve_util"),
            5.0,
            100.0,
            step=5.0,
            key=key("serving.target_utilisation"),
            format="%.0f%%",
            help=t("calc.serve_util_help"),
        )
        st.number_input(
            t("calc.usd_per_gpu_hour"),
            min_value=0.0,
            max_value=1000.0,
            step=0.1,
            key=key("serving.usd_per_gpu_hour"),
            placeholder=t("calc.catalogue_price"),
            help=money_help(GPUS[st.session_state[key("serving.gpu")]]),
        )
        with st.expander(t("calc.shape")):
            st.caption(t("calc.shape_help"))
            st.number_input(
                t("calc.layers"), min_value=0, max_value=1000, key=key("serving.layers"), help=t("calc.layers_help")
            )
            st.number_input(
                t("calc.kv_heads"),
                min_value=0,
                max_value=1000,
                key=key("serving.kv_heads"),
                help=t("calc.kv_heads_help"),
            )
            st.number_input(
                t("calc.head_dim"),
                min_value=0,
                max_value=4096,
                key=key("serving.head_dim"),
                help=t("calc.head_dim_help"),
            )
    scenario = current_scenario()
    with right:
        try:
            sv = eco.scenario_serving(scenario)
        except ValueError as exc:
            error_box(exc)
            return
        st.subheader(t("calc.serve_result"))
        m = st.columns(4)
        m[0].metric(
            t("calc.memory"),
            f"{sv.total_gb:,.1f} GB",
            t("calc.weights_kv", w=f"{sv.weights_gb:,.1f}", kv=f"{sv.kv_cache_gb:,.2f}"),
            delta_color="off",
            delta_arrow="off",
        )
        m[1].metric(
            t("calc.gpus_needed"),
            sv.gpus_needed,
            t("calc.fits") if sv.fits else t("calc.split", n=sv.gpus_needed),
            delta_color="normal" if sv.fits else "inverse",
        )
        m[2].metric(
            t("calc.decode"),
            f"{sv.decode_tok_s:,.0f} tok/s",
            t("calc.per_user", v=f"{sv.decode_tok_s_per_sequence:,.1f}"),
            delta_color="off",
            delta_arrow="off",
        )
        m[3].metric(
            t("calc.usd_per_m_out"),
            fmt_money(sv.usd_per_million_output_tokens, cents=True),
            t("calc.ttft", v=f"{sv.ttft_s:,.2f}"),
            delta_color="off",
            delta_arrow="off",
        )
        if not sv.fits:
            st.warning(
                t("calc.no_fit", total=f"{sv.total_gb:,.1f}", gpu=sv.gpu, n=sv.gpus_needed), icon=":material/warning:"
            )
        if sv.shape_estimated:
            st.caption(t("calc.shape_estimated", model=sv.shape_source))
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
        st.plotly_chart(fig, width="stretch", key="chart-roofline")

        st.subheader(t("calc.vs_api"))
        table = eco.compare_with_api(
            sv.usd_per_million_input_tokens,
            sv.usd_per_million_output_tokens,
            scenario.usage.input_tokens,
            scenario.usage.output_tokens,
        )
        table["model"] = table["model"].replace({"Self-hosted": t("calc.self_hosted", gpu=sv.gpu)})
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
        with st.expander(t("calc.working")):
            st.markdown("\n".join(f"- {error_text(line)}".replace("$", "\\$") for line in sv.explanation))
        show_how("serve")

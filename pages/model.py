"""Model (admins): what is loaded, the fine-tunes (LoRA adapters) and their metrics, training, comparing."""

import json
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.finetune import jobs
from core.finetune.adapters import BASE, active_choice, delete_adapter, list_adapters, set_active
from core.finetune.card import human_size
from core.finetune.data import collect
from core.finetune.train import TrainConfig
from core.llm import GenerationOptions
from core.llm.models import configured_model_name
from core.text.language import stream_in_script
from ui import audit, company, get_llm, knowledge_base, lang, page_setup, require, settings, t

# what a running job is doing, on screen
PHASE_KEYS = {
    "done": "model.phase_done",
    "generate": "model.phase_generate",
    "load": "model.phase_load",
    "save": "model.phase_save",
    "train": "model.phase_train",
    "val_after": "model.phase_val_after",
    "val_before": "model.phase_val_before",
    "val_loss": "model.phase_val_loss",
}
# the adapter metrics' names
METRIC_KEYS = {
    "answered": "model.m_answered",
    "fact_hits_en": "model.m_fact_hits_en",
    "fact_hits_zh": "model.m_fact_hits_zh",
    "handed_over": "model.m_handed_over",
    "perplexity": "model.m_perplexity",
    "rouge_l_en": "model.m_rouge_l_en",
    "rouge_l_zh": "model.m_rouge_l_zh",
    "val_loss": "model.m_val_loss",
}

page_setup()
require("model")
config = settings()
METRICS = [
    "val_loss",
    "perplexity",
    "rouge_l_en",
    "rouge_l_zh",
    "fact_hits_en",
    "fact_hits_zh",
    "answered",
    "handed_over",
]

st.title(t("model.title"))
st.caption(t("model.caption"))

llm = get_llm()
info = llm.info
cols = st.columns(6)
cols[0].metric(t("model.base"), info.model)
cols[1].metric(t("model.adapter"), info.adapter.split("/")[-1] if info.adapter else t("model.none"))
cols[2].metric(
    t("model.engine"),
    info.engine,
    help=t("model.engine_help", engine=info.engine, threads=info.threads or "–", parallel=info.parallel),
)
cols[3].metric(t("model.device"), info.device)
cols[4].metric(t("model.dtype"), info.dtype)
cols[5].metric(t("model.params"), f"{info.params / 1e6:,.1f} M")
if info.notice:
    st.warning(info.notice, icon=":material/info:")


# -- the running job (training or evaluation), shown on every tab ---------------------------------
def job_panel() -> None:
    job = jobs.current()
    if job is None:
        return
    title = t("model.job_train" if job.kind == "train" else "model.job_eval", name=job.name)
    if job.running:
        with st.status(title, state="running", expanded=True):
            st.progress(job.fraction, text=t(PHASE_KEYS[job.phase], step=job.step, total=job.total))
            minutes, seconds = divmod(job.elapsed, 60)
            line = t("model.elapsed", minutes=minutes, seconds=seconds)
            if job.losses:
                line += " · " + t("model.last_loss", loss=job.losses[-1])
            st.caption(line)
            if len(job.losses) > 1:
                st.line_chart(
                    pd.DataFrame({t("model.loss"): job.losses}, index=range(1, len(job.losses) + 1)),
                    height=160,
                    x_label=t("model.step"),
                )
            if job.stop_event.is_set():
                st.caption(t("model.stopping"))
            elif st.button(t("model.stop"), icon=":material/stop_circle:", key="stop-job"):
                job.stop()
        return
    if st.session_state.get("job-seen") != id(job):  # just finished: refresh the whole page once
        st.session_state["job-seen"] = id(job)
        st.rerun(scope="app")
    r = job.result or {}
    if job.state == "failed":
        st.error(t("model.job_failed", name=job.name, error=job.error))
    elif job.state == "stopped":
        st.warning(t("model.job_stopped", name=job.name))
    elif job.kind == "train":
        st.success(
            t(
                "model.job_done",
                name=job.name,
                steps=r.get("steps"),
                seconds=r.get("seconds") or 0,
                before=r.get("val_loss_before"),
                after=r.get("val_loss_after"),
            )
        )
    else:
        st.success(t("model.job_eval_done", name=job.name))


running = jobs.current() is not None and jobs.current().running
st.session_state.setdefault("job-seen", id(jobs.current()) if jobs.current() and not running else None)
st.fragment(job_panel, run_every=2 if running else None)()

adapters_tab, train_tab, compare_tab = st.tabs([t("model.tab_adapters"), t("model.tab_train"), t("model.tab_compare")])


# -- adapters -------------------------------------------------------------------------------------
def loss_figure(path) -> go.Figure | None:
    try:
        log = json.loads((path / "training_log.json").read_text())
    except (OSError, ValueError):
        return None
    steps = log.get("steps", [])
    fig = go.Figure()
    fig.add_scatter(
        x=[s["step"] for s in steps], y=[s["loss"] for s in steps], mode="lines+markers", name=t("model.series_train")
    )
    val = [v for v in log.get("val", []) if v.get("loss") is not None]
    fig.add_scatter(
        x=[v["step"] for v in val],
        y=[v["loss"] for v in val],
        mode="markers+lines",
        name=t("model.series_val"),
        marker={"size": 10, "symbol": "diamond"},
    )
    fig.update_layout(
        title=t("model.loss_curve"),
        xaxis_title=t("model.step"),
        yaxis_title=t("model.loss"),
        height=320,
        margin={"t": 40, "b": 40},
    )
    return fig


def fmt(value) -> str:
    return "—" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


with adapters_tab:
    if config.adapter.strip().lower() != "auto":
        st.info(t("model.env_override", value=config.adapter))
    adapters = list_adapters(config)
    active = active_choice(config)
    model_name = configured_model_name(config)
    if not adapters:
        st.info(t("model.no_adapters"))
    else:
        rows = []
        for a in adapters:
            card = a.card or {}
            m = card.get("metrics", {})
            rows.append(
                {
                    t("model.col_active"): "✓" if a.name == active else "",
                    t("model.col_name"): a.name,
                    t("model.col_origin"): t("model.shipped") if a.shipped else t("model.trained"),
                    t("model.col_base"): a.base_model or "?",
                    t("model.col_created"): card.get("created", "")[:16].replace("T", " "),
                    t("model.col_steps"): card.get("training", {}).get("steps"),
                    t("model.col_val"): f"{fmt(m.get('val_loss_before'))} → {fmt(m.get('val_loss_after'))}",
                    t("model.col_size"): human_size(a.size_bytes),
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    options = [BASE] + [a.name for a in adapters]
    choice = st.radio(
        t("model.choose"),
        options,
        index=options.index(active) if active in options else 0,
        format_func=lambda n: t("model.none") if n == BASE else n,
        horizontal=True,
        key="adapter-choice",
    )
    if choice != active and st.button(
        t("model.make_active"), icon=":material/check_circle:", type="primary", key="make-active"
    ):
        try:
            set_active(config, choice)
            audit("model.activate", choice, {"previous": active})
            st.toast(t("model.activated", name=choice))
            st.rerun()
        except ValueError as exc:
            st.error(str(exc))

    picked = next((a for a in adapters if a.name == choice), None)
    if picked is not None:
        st.subheader(f"{t('model.details')}: {picked.name}")
        card = picked.card or {}
        if picked.base_model and picked.base_model != model_name:
            st.warning(t("model.other_base", base=picked.base_model))
        ev = card.get("evaluation")
        left, right = st.columns([3, 2])
        with left:
            fig = loss_figure(picked.path)
            if fig is not None:
                st.plotly_chart(fig, width="stretch", key=f"loss-{picked.name}")
        with right:
            st.markdown(f"**{t('model.metrics')}**")
            if ev:
                table = [
                    {
                        t("model.metric"): t(METRIC_KEYS[k]),
                        t("model.col_base_model"): fmt(ev["base"].get(k)),
                        t("model.col_with_adapter"): fmt(ev["adapter"].get(k)),
                    }
                    for k in METRICS
                    if ev["base"].get(k) is not None or ev["adapter"].get(k) is not None
                ]
                st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
                st.caption(
                    t(
                        "model.eval_note",
                        faq=ev["examples"].get("faq"),
                        neg=ev["examples"].get("no-answer"),
                        seconds=ev.get("seconds", 0),
                        device=ev.get("device"),
                    )
                )
            else:
                st.caption(t("model.no_eval"))
            if st.button(
                t("model.evaluate"),
                help=t("model.evaluate_help"),
                icon=":material/analytics:",
                disabled=running,
                key="evaluate",
            ):
                try:
                    jobs.start_evaluation(config, picked.name, picked.path)
                    st.rerun()
                except ValueError as exc:
                    st.error(str(exc))
        answers_file = picked.path / "eval.json"
        if answers_file.is_file():
            with st.expander(t("model.answers"), icon=":material/compare:"):
                rows = json.loads(answers_file.read_text(encoding="utf-8")).get("answers", [])
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                t("model.col_question"): r["question"],
                                t("model.col_reference"): r["reference"],
                                t("model.col_base_model"): r["base"],
                                t("model.col_with_adapter"): r["adapter"],
                            }
                            for r in rows
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )
        card_md = picked.path / "model_card.md"
        if card_md.is_file():
            with st.expander(t("model.card"), icon=":material/description:"):
                st.markdown(card_md.read_text(encoding="utf-8"))
        if not picked.shipped and st.button(
            t("model.delete"), icon=":material/delete:", key="delete-adapter", disabled=running
        ):
            delete_adapter(config, picked.name)
            audit("model.delete_adapter", picked.name)
            st.session_state.pop("adapter-choice", None)
            st.toast(t("model.deleted", name=picked.name))
            st.rerun()


# -- fine-tune ------------------------------------------------------------------------------------
with train_tab:
    st.caption(t("model.train_intro"))
    with st.form("finetune"):
        name = st.text_input(t("model.name"), value=datetime.now().strftime("tune-%Y%m%d-%H%M"), max_chars=40)
        files = st.file_uploader(t("model.upload"), type=["jsonl", "csv", "tsv", "xlsx"], accept_multiple_files=True)
        c1, c2 = st.columns(2)
        use_kb = c1.checkbox(t("model.use_kb"), value=True)
        use_voices = c2.checkbox(t("model.use_voices"), value=True)
        c1, c2, c3 = st.columns(3)
        epochs = c1.number_input(t("model.epochs"), 0.5, 20.0, 2.0, 0.5)
        rank = c2.selectbox(t("model.lora_r"), [4, 8, 16, 32], index=1)
        max_steps = c3.number_input(t("model.max_steps"), 0, 10_000, 0, 10)
        start = st.form_submit_button(
            t("model.start"), icon=":material/model_training:", type="primary", disabled=running
        )
    if start:
        try:
            data = collect(
                config,
                faq="kb" if use_kb else "none",
                voices=use_voices,
                uploads=[(f.name, f.getvalue()) for f in files or []],
                kb=knowledge_base() if use_kb else None,
            )
            train_config = TrainConfig(epochs=epochs, lora_r=rank, max_steps=max_steps or None).validate()
            jobs.start_training(config, name.strip(), data, train_config)
            audit(
                "finetune.start",
                name.strip(),
                {
                    "train_examples": len(data.train),
                    "val_examples": len(data.val),
                    "epochs": epochs,
                    "lora_r": rank,
                    "max_steps": max_steps or None,
                },
            )
            st.toast(t("model.started", train=len(data.train), val=len(data.val)))
            st.rerun()
        except ValueError as exc:
            st.error(str(exc))


# -- compare --------------------------------------------------------------------------------------
with compare_tab:
    st.caption(t("model.compare_intro"))
    with st.form("compare"):
        question = st.text_area(t("model.question"), max_chars=2000, height=80)
        modes = {"support": t("model.mode_support"), "chat": t("model.mode_chat")}
        mode = st.radio(t("model.mode"), list(modes), format_func=modes.get, horizontal=True)
        go_compare = st.form_submit_button(t("model.compare"), icon=":material/compare_arrows:")
    if go_compare and question.strip():
        if info.adapter is None:
            st.info(t("model.compare_none"))
        else:
            base = get_llm(adapter="none")
            left, right = st.columns(2)
            for column, model, title in (
                (left, base, t("model.col_base_model")),
                (right, llm, t("model.fine_tuned", name=info.adapter.split("/")[-1])),
            ):
                with column:
                    st.markdown(f"**{title}**")
                    if mode == "support":
                        from core.support.policy import answer

                        result = answer(
                            question,
                            knowledge_base(),
                            model,
                            thresholds=lambda _lang: (1.01, 0.0),
                            company=company(),
                        )
                        text = st.write_stream(stream_in_script(result.stream(), lang()))
                        result.finish(text if isinstance(text, str) else "".join(map(str, text)))
                        if result.tier == 3:
                            st.caption(t("model.handover", reason=result.reason))
                    else:
                        from core.personas import system_prompt

                        messages = [
                            {"role": "system", "content": system_prompt("support", lang())},
                            {"role": "user", "content": question},
                        ]
                        gen = model.stream(messages, GenerationOptions(max_new_tokens=300, temperature=0))
                        st.write_stream(stream_in_script(gen, lang()))
